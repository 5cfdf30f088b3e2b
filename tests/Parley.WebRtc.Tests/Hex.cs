namespace Parley.WebRtc.Tests;

internal static class Hex
{
    /// <summary>Hex digits with any whitespace, as RFCs print them.</summary>
    public static byte[] Parse(string hex) =>
        Convert.FromHexString(string.Concat(hex.Where(c => !char.IsWhiteSpace(c))));

    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
}

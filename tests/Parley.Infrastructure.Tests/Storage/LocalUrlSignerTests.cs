using System.Globalization;
using System.Web;
using Parley.Core.Storage;
using Parley.Infrastructure.Storage;
using Parley.Testing;

namespace Parley.Infrastructure.Tests.Storage;

public sealed class LocalUrlSignerTests
{
    private static readonly byte[] Key = Convert.FromHexString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

    [Fact]
    public void A_fresh_link_verifies()
    {
        var signer = new LocalUrlSigner(Key, new Uri("https://parley.example.com/base/"));

        var url = signer.CreateUrl(StorageBucket.Artifacts, "bots/b1/video.mp4", TimeSpan.FromHours(4));
        var query = HttpUtility.ParseQueryString(url.Query);

        Assert.StartsWith("https://parley.example.com/base/v2/artifacts/artifacts/bots/b1/video.mp4?", url.AbsoluteUri, StringComparison.Ordinal);
        var expires = long.Parse(query["expires"]!, CultureInfo.InvariantCulture);
        Assert.InRange(expires - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 4 * 3600 - 5, 4 * 3600 + 5);
        Assert.Equal(SignedLinkStatus.Valid, signer.Verify("artifacts", "bots/b1/video.mp4", query["expires"], query["signature"]));
    }

    [Fact]
    public void Any_change_to_bucket_key_expiry_or_signature_is_refused()
    {
        var signer = new LocalUrlSigner(Key, new Uri("http://127.0.0.1:3001"));
        var expires = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        var raw = expires.ToString(CultureInfo.InvariantCulture);
        var signature = signer.Sign("artifacts", "bots/b1/video.mp4", expires);

        Assert.Equal(SignedLinkStatus.Invalid, signer.Verify("logs", "bots/b1/video.mp4", raw, signature));
        Assert.Equal(SignedLinkStatus.Invalid, signer.Verify("artifacts", "bots/b2/video.mp4", raw, signature));
        Assert.Equal(SignedLinkStatus.Invalid, signer.Verify("artifacts", "bots/b1/video.mp4", (expires + 3600).ToString(CultureInfo.InvariantCulture), signature));
        var flipped = (signature[0] == 'a' ? "b" : "a") + signature[1..];
        Assert.Equal(SignedLinkStatus.Invalid, signer.Verify("artifacts", "bots/b1/video.mp4", raw, flipped));
        Assert.Equal(SignedLinkStatus.Invalid, signer.Verify("artifacts", "bots/b1/video.mp4", raw, signature.ToUpperInvariant()[..63] + "z"));
        Assert.Equal(SignedLinkStatus.Invalid, signer.Verify("artifacts", "bots/b1/video.mp4", raw, null));
        Assert.Equal(SignedLinkStatus.Invalid, signer.Verify("artifacts", "bots/b1/video.mp4", null, signature));
        Assert.Equal(SignedLinkStatus.Invalid, signer.Verify("artifacts", "bots/b1/video.mp4", "-5", signature));
        Assert.Equal(SignedLinkStatus.Invalid, signer.Verify("artifacts", "bots/b1/video.mp4", raw, signature[..10]));

        var otherKey = new LocalUrlSigner(new byte[32], new Uri("http://127.0.0.1:3001"));
        Assert.Equal(SignedLinkStatus.Invalid, otherKey.Verify("artifacts", "bots/b1/video.mp4", raw, signature));
    }

    [Fact]
    public void An_expired_link_reads_as_expired_and_a_forged_expiry_as_invalid()
    {
        var signer = new LocalUrlSigner(Key, new Uri("http://127.0.0.1:3001"));
        var past = DateTimeOffset.UtcNow.AddSeconds(-1).ToUnixTimeSeconds();
        var signature = signer.Sign("artifacts", "bots/b1/video.mp4", past);

        Assert.Equal(SignedLinkStatus.Expired, signer.Verify("artifacts", "bots/b1/video.mp4", past.ToString(CultureInfo.InvariantCulture), signature));
        var extended = DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        Assert.Equal(SignedLinkStatus.Invalid, signer.Verify("artifacts", "bots/b1/video.mp4", extended, signature));
    }

    [Fact]
    public void The_generated_key_is_32_bytes_in_a_0600_file_and_is_reused()
    {
        using var dir = new TempDirectory();
        var data = Path.Combine(dir.Path, "data");

        var first = ArtifactSigningKey.Resolve(null, data);
        var second = ArtifactSigningKey.Resolve(null, data);

        var path = Path.Combine(data, ArtifactSigningKey.FileName);
        Assert.Equal(32, first.Length);
        Assert.Equal(first, second);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(Convert.ToHexStringLower(first), File.ReadAllText(path).Trim());
        Assert.Empty(Directory.GetFiles(data, "*.tmp"));
    }

    [Fact]
    public void A_configured_key_wins_and_writes_nothing()
    {
        using var dir = new TempDirectory();

        var key = ArtifactSigningKey.Resolve("a-configured-signing-key-of-32-chars!", dir.Path);

        Assert.Equal("a-configured-signing-key-of-32-chars!"u8.ToArray(), key);
        Assert.False(File.Exists(Path.Combine(dir.Path, ArtifactSigningKey.FileName)));
    }

    [Fact]
    public void A_truncated_key_file_is_replaced_by_a_new_key()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, ArtifactSigningKey.FileName);
        File.WriteAllText(path, "short");

        var key = ArtifactSigningKey.Resolve(null, dir.Path);

        Assert.Equal(32, key.Length);
        Assert.Equal(Convert.ToHexStringLower(key), File.ReadAllText(path).Trim());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }
}

using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Parley.Api.Http;

/// <summary>
/// Reads a JSON body into a request type with the API's error rules: unreadable JSON is INVALID_JSON, a
/// value of the wrong type is a VALIDATION_ERROR naming the field, a body over the limit is 413. Handlers
/// never see an exception from the body.
/// </summary>
public static class RequestBody
{
    public const long MaxBytes = 1024 * 1024;

    /// <summary>
    /// Kestrel's own limit, above <see cref="MaxBytes"/>: bodies between the two are drained and answered
    /// with a 413 envelope; bodies above it are cut off by the server.
    /// </summary>
    public const long HardLimitBytes = 16 * 1024 * 1024;

    public static async Task<(T? Value, IResult? Error)> ReadAsync<T>(HttpRequest request) where T : class
    {
        var (value, _, error) = await ReadWithTextAsync<T>(request, JsonValueKind.Object);
        return (value, error);
    }

    /// <summary>Also returns the body as text (bots keep their create body as submitted).</summary>
    public static async Task<(T? Value, string Text, IResult? Error)> ReadWithTextAsync<T>(HttpRequest request, JsonValueKind root) where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        byte[] bytes;
        try
        {
            // Read at most one byte past the limit; the rest of an oversized body is drained, not buffered,
            // so that the client can finish sending and read the 413 instead of seeing a reset connection.
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
            {
                if (buffer.Length + read > MaxBytes)
                {
                    while (await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted) > 0)
                    {
                    }

                    return (null, "", ApiError.PayloadTooLarge(MaxBytes));
                }

                buffer.Write(chunk, 0, read);
            }

            bytes = buffer.ToArray();
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, "", ApiError.PayloadTooLarge(MaxBytes));
        }

        var kind = root == JsonValueKind.Array ? "array" : "object";
        if (bytes.Length == 0 || bytes.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
        {
            return (null, "", ApiError.InvalidJson($"the body is empty; send a JSON {kind}"));
        }

        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 32 });
            if (document.RootElement.ValueKind != root)
            {
                return (null, "", ApiError.InvalidJson($"the body must be a JSON {kind}"));
            }
        }
        catch (JsonException ex)
        {
            return (null, "", ApiError.InvalidJson($"line {(ex.LineNumber ?? 0) + 1}, position {(ex.BytePositionInLine ?? 0) + 1}"));
        }

        var text = System.Text.Encoding.UTF8.GetString(bytes);
        try
        {
            return (JsonSerializer.Deserialize<T>(bytes, ApiJson.Options), text, null);
        }
        catch (JsonException ex)
        {
            return (null, text, ApiError.Validation(FieldOf(ex.Path), "has the wrong type"));
        }
    }

    /// <summary>"$.timeout_config.silence_timeout" → "timeout_config.silence_timeout".</summary>
    public static string FieldOf(string? path) =>
        string.IsNullOrEmpty(path) ? "body" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
}

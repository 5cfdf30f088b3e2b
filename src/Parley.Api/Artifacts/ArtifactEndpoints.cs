using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Parley.Core.Storage;
using Parley.Infrastructure.Storage;

using Parley.Api.Http;

namespace Parley.Api.Artifacts;

/// <summary>
/// Downloads of locally stored artifacts through the signed links that <see cref="LocalArtifactStore"/>
/// hands out (the local counterpart of an S3 presigned URL). No API key: the signature is the
/// authorization, so a link can be given to a browser or a webhook consumer as it is.
/// </summary>
public static class ArtifactEndpoints
{
    public static IEndpointRouteBuilder MapParleyArtifacts(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMethods("/v2/artifacts/{bucket}/{**key}", [HttpMethods.Get, HttpMethods.Head], DownloadAsync)
            .WithName("DownloadArtifact")
            .AllowAnonymous();
        return endpoints;
    }

    internal static async Task<IResult> DownloadAsync(string bucket, string key, string? expires, string? signature, IArtifactStore store, CancellationToken cancellationToken)
    {
        // With S3 storage, links point at S3 itself; nothing is served from here.
        if (store is not LocalArtifactStore local)
        {
            return NotFound();
        }

        // The signature first: a link whose bucket, key or expiry was changed is forged, whatever it names.
        switch (local.Signer.Verify(bucket, key, expires, signature))
        {
            case SignedLinkStatus.Invalid:
                return Error(StatusCodes.Status403Forbidden, "INVALID_SIGNATURE", "Forbidden", "The download link's signature is missing or does not match; request a fresh link from the bot's details.");
            case SignedLinkStatus.Expired:
                return Error(StatusCodes.Status410Gone, "LINK_EXPIRED", "Link expired", "The download link has expired (links are valid 4 hours); request a fresh link from the bot's details.");
        }

        if (!ArtifactKeys.TryParseBucket(bucket, out var storageBucket) || !ArtifactKeys.IsValid(key))
        {
            return NotFound();
        }

        var stored = await local.OpenReadAsync(storageBucket, key, cancellationToken);
        if (stored is null)
        {
            // Signed, but deleted since (retention, delete-data).
            return NotFound();
        }

        // The result disposes the stream once the response is written.
        return Results.Stream(stored.Content, stored.ContentType, enableRangeProcessing: true);
    }

    private static IResult NotFound() => ApiError.NotFound("Artifact");

    private static IResult Error(int status, string code, string error, string message) => ApiError.Create(status, code, error, message);
}

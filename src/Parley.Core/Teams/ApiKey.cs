namespace Parley.Core.Teams;

/// <summary>
/// A team's API key. Only a SHA-256 hash is stored (the key is shown once, at creation); the prefix lets
/// an operator tell keys apart in listings without revealing them.
/// </summary>
public sealed class ApiKey
{
    public required string Id { get; init; }

    public required string TeamId { get; init; }

    public required string Name { get; set; }

    /// <summary>The first characters of the key, e.g. "pk_3f9a1c".</summary>
    public required string Prefix { get; init; }

    public required string Hash { get; init; }

    public DateTime CreatedAt { get; init; }

    public DateTime? LastUsedAt { get; set; }

    public DateTime? RevokedAt { get; set; }
}

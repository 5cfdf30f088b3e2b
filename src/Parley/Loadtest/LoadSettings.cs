using System.Globalization;

namespace Parley.Loadtest;

/// <summary>A group of publishers in each meeting: how many, and what they send.</summary>
internal sealed record PublisherGroup(int Count, bool Audio, bool Video)
{
    /// <summary>
    /// `--publishers`: a count (each sends audio and video), or groups `COUNT:MEDIA` separated by commas,
    /// MEDIA one of `av` (audio + video), `audio`, `video`. Scenario (c), 50 people all with audio of whom
    /// 10 also send video: `40:audio,10:av`.
    /// </summary>
    public static bool TryParse(string? text, out IReadOnlyList<PublisherGroup> groups, out string? error)
    {
        groups = [];
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "--publishers is empty";
            return false;
        }

        var list = new List<PublisherGroup>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var pieces = part.Split(':', 2);
            if (!int.TryParse(pieces[0], NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 0 || count > 10_000)
            {
                error = $"--publishers '{part}': expected a count 0..10000, optionally followed by :av, :audio or :video";
                return false;
            }

            var media = pieces.Length == 2 ? pieces[1].ToLowerInvariant() : "av";
            (bool Audio, bool Video)? kind = media switch
            {
                "av" or "audio+video" => (true, true),
                "audio" or "a" => (true, false),
                "video" or "v" => (false, true),
                _ => null,
            };
            if (kind is not { } k)
            {
                error = $"--publishers '{part}': media must be av, audio or video";
                return false;
            }

            list.Add(new PublisherGroup(count, k.Audio, k.Video));
        }

        groups = list;
        return true;
    }

    public override string ToString() => $"{Count}:{(Audio && Video ? "av" : Audio ? "audio" : "video")}";
}

/// <summary>The options of `parley loadtest` (issue 8), checked.</summary>
internal sealed record LoadSettings
{
    public required Uri Url { get; init; }

    public string Target { get; init; } = "parley";

    public int Meetings { get; init; } = 1;

    /// <summary>Per meeting.</summary>
    public IReadOnlyList<PublisherGroup> Publishers { get; init; } = [new PublisherGroup(2, true, true)];

    /// <summary>Receive-only participants per meeting.</summary>
    public int Subscribers { get; init; }

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    public int VideoBitrateKbps { get; init; } = 500;

    public bool Simulcast { get; init; }

    /// <summary>
    /// Publishers per meeting whose microphone is open (`--talkers`); the others send what a muted
    /// microphone sends, digital silence (RFC 6464 level 127). Null: everyone talks.
    /// </summary>
    public int? Talkers { get; init; }

    /// <summary>Whether the publisher at <paramref name="index"/> in its meeting talks (publishers come first).</summary>
    public bool IsTalker(int index) => Talkers is not { } talkers || index < talkers;

    /// <summary>Joins started per second.</summary>
    public double Ramp { get; init; } = 10;

    public bool Json { get; init; }

    public int PublishersPerMeeting => Publishers.Sum(g => g.Count);

    public int ParticipantsPerMeeting => PublishersPerMeeting + Subscribers;

    public int TotalParticipants => ParticipantsPerMeeting * Meetings;
}

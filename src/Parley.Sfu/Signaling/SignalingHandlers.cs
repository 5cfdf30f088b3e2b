using System.Text.Json;
using Parley.Sfu.Rooms;

namespace Parley.Sfu.Signaling;

/// <summary>The requests of docs/signaling.md, one method each.</summary>
public sealed partial class SignalingSession
{
    private const int MaxChatLength = 2000;

    private async Task HandleAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(frame, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException)
        {
            Reject(null, "INVALID_MESSAGE", "Messages are JSON objects with a \"type\".");
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            {
                Reject(null, "INVALID_MESSAGE", "Messages are JSON objects with a \"type\".");
                return;
            }

            long? id = root.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.Number && idElement.TryGetInt64(out var value) ? value : null;
            var type = typeElement.GetString()!;
            try
            {
                if (type == "ping")
                {
                    Send(new PongMessage(id));
                }
                else if (type == "join")
                {
                    await JoinAsync(root, id, cancellationToken).ConfigureAwait(false);
                }
                else if (!IsKnown(type))
                {
                    throw new SignalingException("UNKNOWN_TYPE", $"Unknown message type \"{Truncate(type)}\".");
                }
                else
                {
                    Dispatch(type, root, id);
                }

                _rejectedInARow = 0;
            }
            catch (SignalingException e)
            {
                Reject(id, e.Code, e.Message);
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException or KeyNotFoundException or ArgumentException)
            {
                // A bug or an unexpected shape: the client gets a stable code, the log the details.
                LogHandlerFailed(_logger, e, type);
                Reject(id, "INTERNAL_ERROR", "The server could not handle this message.");
            }
        }
    }

    private static bool IsKnown(string type) => type is "publish" or "subscribe_answer" or "mute" or "set_layer" or "chat"
        or "raise_hand" or "ice_restart" or "lobby_admit" or "lobby_deny" or "leave";

    private async Task JoinAsync(JsonElement root, long? id, CancellationToken cancellationToken)
    {
        if (_participant is { State: not ParticipantState.Left })
        {
            throw new SignalingException("ALREADY_JOINED", "This connection has joined already.");
        }

        if (root.TryGetProperty("v", out var version) && (version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var v) || v != 1))
        {
            throw new SignalingException("UNSUPPORTED_VERSION", "This server speaks signaling version 1.");
        }

        var token = RequiredString(root, "token", 8192);
        var resumeToken = OptionalString(root, "resume_token", 128);
        var authorization = await _engine.Authority.AuthorizeAsync(token, cancellationToken).ConfigureAwait(false);
        if (!authorization.IsAllowed)
        {
            throw new SignalingException(authorization.ErrorCode ?? "INVALID_TOKEN", authorization.ErrorMessage ?? "The join token was refused.");
        }

        for (var attempt = 0; ; attempt++)
        {
            var room = _engine.GetOrCreateRoom(authorization.Policy!);
            lock (room.Worker.Sync)
            {
                if (room.Closed && attempt == 0)
                {
                    continue; // closed between lookup and lock: a fresh room
                }

                _participant = resumeToken is null
                    ? room.Join(authorization.Grant!, authorization.Policy!, this)
                    : room.Resume(authorization.Grant!, resumeToken, this);
            }

            LogJoined(_logger, _participant.Id, room.MeetingId);
            return;
        }
    }

    private void Dispatch(string type, JsonElement root, long? id)
    {
        if (_participant is not { } participant || participant.State == ParticipantState.Left)
        {
            throw new SignalingException("NOT_JOINED", "Send join first.");
        }

        var room = participant.Room;
        lock (room.Worker.Sync)
        {
            if (participant.State == ParticipantState.Left)
            {
                throw new SignalingException("NOT_JOINED", "You are no longer in this meeting.");
            }

            if (participant.State == ParticipantState.Waiting && type != "leave")
            {
                throw new SignalingException("NOT_JOINED", "You are waiting in the lobby.");
            }

            switch (type)
            {
                case "publish":
                    room.Publish(participant, id, RequiredString(root, "sdp", MaxMessageBytes), Tracks(root));
                    break;
                case "subscribe_answer":
                    participant.AcceptSubscribeAnswer(RequiredString(root, "sdp", MaxMessageBytes),
                        root.TryGetProperty("offer_id", out var offerId) && offerId.ValueKind == JsonValueKind.Number && offerId.TryGetInt64(out var answered) ? answered : null);
                    break;
                case "mute":
                    room.Mute(participant, RequiredString(root, "track_id", 64), RequiredBool(root, "muted"));
                    break;
                case "set_layer":
                    room.SetLayer(participant, RequiredString(root, "track_id", 64), RequiredInt(root, "layer", 0, 2));
                    break;
                case "chat":
                    var text = RequiredString(root, "text", MaxChatLength).Trim();
                    if (text.Length == 0)
                    {
                        throw new SignalingException("INVALID_MESSAGE", "chat: text must not be empty.");
                    }

                    room.Chat(participant, text);
                    break;
                case "raise_hand":
                    room.RaiseHand(participant, RequiredBool(root, "raised"));
                    break;
                case "ice_restart":
                    participant.ScheduleSubscribeOffer(iceRestart: true);
                    break;
                case "lobby_admit":
                case "lobby_deny":
                    room.LobbyDecision(participant, RequiredString(root, "participant_id", 64), admit: type == "lobby_admit");
                    break;
                case "leave":
                    room.Leave(participant, "left");
                    Close("left");
                    break;
            }
        }
    }

    /// <summary>publish.tracks: mid → (kind, source); the source defaults from the kind.</summary>
    private static Dictionary<string, (string Kind, string Source)> Tracks(JsonElement root)
    {
        var tracks = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        if (!root.TryGetProperty("tracks", out var array) || array.ValueKind != JsonValueKind.Array)
        {
            throw new SignalingException("INVALID_MESSAGE", "publish: tracks must be an array of {mid, kind, source}.");
        }

        foreach (var track in array.EnumerateArray())
        {
            if (track.ValueKind != JsonValueKind.Object || tracks.Count >= 16)
            {
                throw new SignalingException("INVALID_MESSAGE", "publish: tracks must be at most 16 objects {mid, kind, source}.");
            }

            var mid = RequiredString(track, "mid", 32);
            var kind = RequiredString(track, "kind", 8);
            if (kind is not ("audio" or "video"))
            {
                throw new SignalingException("INVALID_MESSAGE", "publish: kind must be audio or video.");
            }

            var source = OptionalString(track, "source", 16) ?? (kind == "audio" ? "microphone" : "camera");
            if (source is not ("microphone" or "camera" or "screen"))
            {
                throw new SignalingException("INVALID_MESSAGE", "publish: source must be microphone, camera or screen.");
            }

            tracks[mid] = (kind, source);
        }

        return tracks;
    }

    private static string RequiredString(JsonElement element, string name, int maxLength) =>
        OptionalString(element, name, maxLength) ?? throw new SignalingException("INVALID_MESSAGE", $"\"{name}\" is required (a string).");

    private static string? OptionalString(JsonElement element, string name, int maxLength)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw new SignalingException("INVALID_MESSAGE", $"\"{name}\" must be a string.");
        }

        var text = value.GetString()!;
        return text.Length <= maxLength ? text : throw new SignalingException("INVALID_MESSAGE", $"\"{name}\" is longer than {maxLength} characters.");
    }

    private static bool RequiredBool(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : throw new SignalingException("INVALID_MESSAGE", $"\"{name}\" is required (true or false).");

    private static int RequiredInt(JsonElement element, string name, int min, int max) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number >= min && number <= max
            ? number
            : throw new SignalingException("INVALID_MESSAGE", $"\"{name}\" is required (an integer {min}..{max}).");

    private static string Truncate(string text) => text.Length <= 32 ? text : text[..32] + "…";
}

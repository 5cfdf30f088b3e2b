using System.Net;
using System.Security.Cryptography;
using Parley.WebRtc.Stun;

namespace Parley.WebRtc.Ice;

/// <summary>
/// The client side against an ICE-lite server (RFC 8445 §7.2, §8.1.1 with aggressive nomination, as a
/// controlling agent may use towards a lite peer): sends Binding requests with USE-CANDIDATE to the
/// server's candidates in priority order, retransmits them (RFC 8489 §6.2.1 style backoff), and
/// nominates the first candidate whose authenticated response comes back. Afterwards it sends a consent
/// check every <see cref="ConsentInterval"/> (RFC 7675 §5.1). The owner calls <see cref="Poll"/> to send
/// what is due and <see cref="ProcessStun"/> with what arrives. Not thread-safe.
/// </summary>
public sealed class IceControllingAgent
{
    private readonly TimeProvider _time;
    private readonly List<Pending> _pending = [];
    private readonly ulong _tieBreaker;
    private long _nextConsent;
    private long _lastResponse;

    public IceControllingAgent(IceCredentials local, IceCredentials remote, IReadOnlyList<IPEndPoint> remoteCandidates, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentNullException.ThrowIfNull(remoteCandidates);
        Local = local;
        Remote = remote;
        Candidates = remoteCandidates;
        _time = time ?? TimeProvider.System;
        _tieBreaker = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
    }

    public IceCredentials Local { get; private set; }

    public IceCredentials Remote { get; private set; }

    public IReadOnlyList<IPEndPoint> Candidates { get; private set; }

    public IceConnectionState State { get; private set; }

    public IPEndPoint? SelectedEndPoint { get; private set; }

    /// <summary>The address the server saw us at (XOR-MAPPED-ADDRESS of the nominating response).</summary>
    public IPEndPoint? MappedEndPoint { get; private set; }

    public TimeSpan ConsentInterval { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan ConsentTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Gives up on a candidate after this many transmissions (≈ 7.9 s with the backoff below).</summary>
    public int MaxTransmissions { get; init; } = 7;

    public event Action<IceConnectionState>? StateChanged;

    /// <summary>
    /// Sends whatever is due: first checks, retransmissions, consent checks. <paramref name="send"/> gets
    /// a request and its destination. Call every 50 ms or so.
    /// </summary>
    public void Poll(Action<ReadOnlyMemory<byte>, IPEndPoint> send)
    {
        ArgumentNullException.ThrowIfNull(send);
        var now = _time.GetTimestamp();
        if (State == IceConnectionState.New)
        {
            SetState(IceConnectionState.Checking);
            foreach (var candidate in Candidates)
            {
                _pending.Add(new Pending(candidate, NewRequest(useCandidate: true, out var id), id));
            }
        }

        if (State is IceConnectionState.Connected or IceConnectionState.Disconnected && SelectedEndPoint is not null)
        {
            if (_time.GetElapsedTime(_lastResponse, now) > ConsentTimeout)
            {
                SetState(IceConnectionState.Disconnected);
            }

            if (now >= _nextConsent && _pending.Count == 0)
            {
                _pending.Add(new Pending(SelectedEndPoint, NewRequest(useCandidate: false, out var id), id));
                _nextConsent = now + (long)(ConsentInterval.TotalSeconds * _time.TimestampFrequency);
            }
        }

        for (var i = _pending.Count - 1; i >= 0; i--)
        {
            var p = _pending[i];
            if (now < p.NextSend)
            {
                continue;
            }

            if (p.Transmissions == MaxTransmissions)
            {
                _pending.RemoveAt(i);
                if (_pending.Count == 0 && State == IceConnectionState.Checking)
                {
                    SetState(IceConnectionState.Disconnected); // every candidate failed
                }

                continue;
            }

            send(p.Request, p.Destination);
            // 100 ms, doubling, capped at 1.6 s: quick on loopback, gentle on a lossy path.
            var delay = Math.Min(100 << p.Transmissions, 1600);
            p.Transmissions++;
            p.NextSend = now + (delay * _time.TimestampFrequency / 1000);
        }
    }

    /// <summary>Handles a STUN datagram from <paramref name="from"/>; returns false if it was not ours.</summary>
    public bool ProcessStun(ReadOnlySpan<byte> datagram, IPEndPoint from)
    {
        if (!StunMessage.TryParse(datagram, out var response) || response.Method != StunMethod.Binding
            || response.Class is not (StunClass.SuccessResponse or StunClass.ErrorResponse))
        {
            return false;
        }

        var index = -1;
        for (var i = 0; i < _pending.Count; i++)
        {
            if (response.TransactionId.SequenceEqual(_pending[i].TransactionId))
            {
                index = i;
                break;
            }
        }

        if (index < 0 || !response.VerifyFingerprint())
        {
            return false;
        }

        var pending = _pending[index];
        if (response.Class == StunClass.ErrorResponse || !response.VerifyMessageIntegrity(Remote.PwdBytes)
            || !pending.Destination.Equals(from))
        {
            return false; // RFC 8445 §7.2.5.2.1: the response must come from where the request went
        }

        _pending.RemoveAt(index);
        _lastResponse = _time.GetTimestamp();
        if (SelectedEndPoint is null)
        {
            SelectedEndPoint = pending.Destination;
            MappedEndPoint = response.GetXorMappedEndPoint();
            _nextConsent = _lastResponse + (long)(ConsentInterval.TotalSeconds * _time.TimestampFrequency);
            _pending.Clear(); // nominated: stop checking the other candidates
        }

        SetState(IceConnectionState.Connected);
        return true;
    }

    /// <summary>
    /// Answers the server's own Binding request (RFC 8445 §7.3). A lite server never sends one, but a full
    /// agent does, and so does libnice even in Janus's ICE-lite mode: it lets DTLS start only once its check of
    /// the pair succeeded. Verifies FINGERPRINT, USERNAME ("ourUfrag:theirUfrag") and MESSAGE-INTEGRITY with
    /// our password. When <paramref name="responseLength"/> is above zero, the response is to be sent to
    /// <paramref name="from"/>. Never throws on datagram content.
    /// </summary>
    public IceCheckOutcome AnswerCheck(ReadOnlySpan<byte> datagram, IPEndPoint from, Span<byte> response, out int responseLength)
    {
        ArgumentNullException.ThrowIfNull(from);
        responseLength = 0;
        if (!StunMessage.TryParse(datagram, out var request))
        {
            return IceCheckOutcome.NotStun;
        }

        if (request.Method != StunMethod.Binding || request.Class != StunClass.Request)
        {
            return IceCheckOutcome.Ignored;
        }

        if (request.HasFingerprint && !request.VerifyFingerprint())
        {
            return IceCheckOutcome.Dropped; // RFC 8489 §7.3: not a STUN message after all
        }

        if (!request.HasFingerprint || !request.HasUsername || !request.HasMessageIntegrity)
        {
            responseLength = IceCheckAnswer.WriteError(response, request, 400, "Bad Request");
            return IceCheckOutcome.BadRequest;
        }

        if (!IceCheckAnswer.Matches(request.Username, Local, Remote.Ufrag) || !request.VerifyMessageIntegrity(Local.PwdBytes))
        {
            responseLength = IceCheckAnswer.WriteError(response, request, 401, "Unauthorized");
            return IceCheckOutcome.Unauthorized;
        }

        // RFC 8445 §7.3.1.1: both sides controlling. The larger tie-breaker keeps the role; we cannot switch
        // (a client against a server is always the controlling side), so a larger one of ours answers 487.
        if (request.HasIceControlling && _tieBreaker >= request.IceControlling)
        {
            responseLength = IceCheckAnswer.WriteError(response, request, 487, "Role Conflict");
            return IceCheckOutcome.BadRequest;
        }

        responseLength = IceCheckAnswer.WriteSuccess(response, request, from, Local);
        return IceCheckOutcome.Success;
    }

    /// <summary>ICE restart (RFC 8445 §9): new credentials on both sides, checks start over.</summary>
    public void Restart(IceCredentials local, IceCredentials remote, IReadOnlyList<IPEndPoint> remoteCandidates)
    {
        Local = local;
        Remote = remote;
        Candidates = remoteCandidates;
        SelectedEndPoint = null;
        _pending.Clear();
        State = IceConnectionState.New;
    }

    private byte[] NewRequest(bool useCandidate, out byte[] transactionId)
    {
        transactionId = new byte[StunMessageType.TransactionIdLength];
        StunMessageBuilder.NewTransactionId(transactionId);
        var buffer = new byte[256];
        var builder = new StunMessageBuilder(buffer, StunMessageType.BindingRequest, transactionId);
        builder.AddUsername($"{Remote.Ufrag}:{Local.Ufrag}");
        // RFC 8445 §5.1.2.1: host candidate type preference 126, local preference 65535, component 1.
        builder.AddPriority((126u << 24) | (65535u << 8) | 255u);
        builder.AddIceControlling(_tieBreaker);
        if (useCandidate)
        {
            builder.AddUseCandidate();
        }

        builder.AddMessageIntegrity(Remote.PwdBytes);
        builder.AddFingerprint();
        return buffer[..builder.Length];
    }

    private void SetState(IceConnectionState state)
    {
        if (State != state)
        {
            State = state;
            StateChanged?.Invoke(state);
        }
    }

    private sealed class Pending(IPEndPoint destination, byte[] request, byte[] transactionId)
    {
        public IPEndPoint Destination { get; } = destination;

        public byte[] Request { get; } = request;

        public byte[] TransactionId { get; } = transactionId;

        public int Transmissions { get; set; }

        public long NextSend { get; set; }
    }
}

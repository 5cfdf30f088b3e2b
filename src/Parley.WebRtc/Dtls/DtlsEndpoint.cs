using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;
using Parley.WebRtc.Srtp;

namespace Parley.WebRtc.Dtls;

public enum DtlsRole
{
    /// <summary>Waits for the ClientHello: our SDP says a=setup:passive.</summary>
    Server,

    /// <summary>Sends the ClientHello: our SDP says a=setup:active.</summary>
    Client,
}

public enum DtlsState
{
    New,
    Connecting,
    Connected,
    Failed,
    Closed,
}

public sealed record DtlsOptions
{
    /// <summary>Profiles in preference order (RFC 8827 §6.5 makes AES-CM mandatory; GCM is cheaper here).</summary>
    public IReadOnlyList<SrtpProfile> Profiles { get; init; } = [SrtpProfile.AeadAes128Gcm, SrtpProfile.AesCm128HmacSha1_80];

    /// <summary>Largest datagram we send; handshake messages are fragmented to fit (Janus uses 1,200 too).</summary>
    public int Mtu { get; init; } = 1200;

    /// <summary>The whole handshake, retransmissions included, must finish within this.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long to keep reading DTLS after the handshake: long enough to answer a peer whose copy of our
    /// last flight was lost. WebRTC without data channels sends nothing else over DTLS, and ICE consent
    /// tells when a peer is gone, so the reading thread then ends (one thread per peer would not scale).
    /// </summary>
    public TimeSpan ServiceAfterHandshake { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Test hook: pads our ClientHello (client role) so it must be fragmented.</summary>
    internal int ClientHelloPadding { get; init; }
}

/// <summary>Why a handshake failed: timeout, a fatal alert (bad fingerprint, no common profile) or cancellation.</summary>
public sealed class DtlsHandshakeException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A DTLS 1.2 association with one peer (RFC 6347, DTLS-SRTP RFC 5763/5764), run by BouncyCastle on a
/// dedicated thread. The socket loop feeds it DTLS datagrams through <see cref="Deliver"/>; it sends
/// through the callback given at construction. The server role reads the ClientHello through
/// BouncyCastle's reassembling handshake path (no stateless cookie exchange, which would refuse a
/// fragmented ClientHello such as a post-quantum key share makes; ICE already verified the address).
/// After the handshake it keeps reading for <see cref="DtlsOptions.ServiceAfterHandshake"/> so it can
/// answer a peer that retransmits its last flight and notice an early close_notify.
/// </summary>
public sealed class DtlsEndpoint : IDisposable
{
    private readonly DtlsRole _role;
    private readonly DtlsCertificate _certificate;
    private readonly string _remoteFingerprint;
    private readonly DtlsOptions _options;
    private readonly QueuedDatagramTransport _transport;
    private DtlsTransport? _dtls;
    private volatile bool _disposed;

    public DtlsEndpoint(DtlsRole role, DtlsCertificate certificate, string remoteFingerprint, Action<ReadOnlyMemory<byte>> send, DtlsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentException.ThrowIfNullOrWhiteSpace(remoteFingerprint);
        ArgumentNullException.ThrowIfNull(send);
        _role = role;
        _certificate = certificate;
        _remoteFingerprint = remoteFingerprint;
        _options = options ?? new DtlsOptions();
        _transport = new QueuedDatagramTransport(send, _options.Mtu);
    }

    public DtlsState State { get; private set; }

    /// <summary>How many partial ClientHello records arrived (a fragmented ClientHello was reassembled).</summary>
    internal int ClientHelloFragments => _transport.ClientHelloFragments;

    /// <summary>Hands one DTLS datagram from the peer to the engine (copied; safe to reuse the buffer).</summary>
    public void Deliver(ReadOnlySpan<byte> datagram) => _transport.Enqueue(datagram);

    /// <summary>Runs the handshake; returns the SRTP keys, or throws <see cref="DtlsHandshakeException"/>.</summary>
    public Task<SrtpKeyingMaterial> HandshakeAsync(CancellationToken cancellationToken = default)
    {
        if (State != DtlsState.New)
        {
            throw new InvalidOperationException("The handshake runs once.");
        }

        State = DtlsState.Connecting;
        var crypto = new BcTlsCrypto(new SecureRandom());
        var timeout = (int)_options.HandshakeTimeout.TotalMilliseconds;
        return Task.Factory.StartNew(
            () =>
            {
                using var registration = cancellationToken.Register(_transport.Close);
                try
                {
                    SrtpKeyingMaterial? keys;
                    short? alert;
                    if (_role == DtlsRole.Server)
                    {
                        var server = new DtlsServerPeer(crypto, _certificate, _remoteFingerprint, _options.Profiles, timeout);
                        _dtls = new DtlsServerProtocol().Accept(server, _transport);
                        (keys, alert) = (server.Keys, server.AlertDescription);
                    }
                    else
                    {
                        var client = new DtlsClientPeer(crypto, _certificate, _remoteFingerprint, _options.Profiles, timeout)
                        {
                            ClientHelloPadding = _options.ClientHelloPadding,
                        };
                        _dtls = new DtlsClientProtocol().Connect(client, _transport);
                        (keys, alert) = (client.Keys, client.AlertDescription);
                    }

                    State = keys is null ? DtlsState.Failed : DtlsState.Connected;
                    if (keys is null)
                    {
                        throw new DtlsHandshakeException($"The handshake finished without SRTP keys (alert {alert}).");
                    }

                    StartServicing();
                    return keys;
                }
                catch (Exception e) when (e is not DtlsHandshakeException)
                {
                    State = DtlsState.Failed;
                    var reason = cancellationToken.IsCancellationRequested ? "cancelled"
                        : e is TlsFatalAlert fatal ? $"fatal alert {AlertDescription.GetText(fatal.AlertDescription)}"
                        : e is TlsTimeoutException ? "timed out"
                        : e.Message;
                    throw new DtlsHandshakeException($"DTLS {_role} handshake failed: {reason}", e);
                }
            },
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
    }

    /// <summary>Sends close_notify (if connected) and stops the engine.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            _dtls?.Close();
        }
        catch (IOException)
        {
            // The peer may already be gone; closing is best effort.
        }

        _transport.Close();
        State = DtlsState.Closed;
    }

    private void StartServicing()
    {
        var dtls = _dtls!;
        var thread = new Thread(() =>
        {
            var buffer = new byte[1500];
            var until = DateTime.UtcNow + _options.ServiceAfterHandshake;
            try
            {
                while (!_disposed && DateTime.UtcNow < until)
                {
                    // WebRTC sends no application data over DTLS without SCTP; reading services
                    // retransmissions of the peer's last flight and detects close_notify.
                    dtls.Receive(buffer, 0, buffer.Length, 1000);
                }
            }
            catch (Exception e) when (e is IOException or TlsFatalAlert or ObjectDisposedException or InvalidOperationException)
            {
                State = _disposed ? DtlsState.Closed : DtlsState.Failed;
            }
        })
        {
            IsBackground = true,
            Name = "dtls-service",
        };
        thread.Start();
    }
}

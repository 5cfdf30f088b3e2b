using System.Collections.Concurrent;
using Org.BouncyCastle.Tls;

namespace Parley.WebRtc.Dtls;

/// <summary>
/// Bridges BouncyCastle's blocking DTLS engine to Parley's shared socket: the socket loop hands DTLS
/// datagrams (first byte 20..63, RFC 7983) to <see cref="Enqueue"/>, the engine's thread takes them in
/// <see cref="Receive(byte[], int, int, int)"/>, and what it sends goes out through the send callback.
/// DTLS is a handful of packets per session, so copying each one is fine.
/// </summary>
internal sealed class QueuedDatagramTransport : DatagramTransport
{
    // Bounded so a peer flooding DTLS datagrams cannot grow memory; a full queue drops (DTLS retransmits).
    private readonly BlockingCollection<byte[]> _incoming = new(boundedCapacity: 256);
    private readonly Action<ReadOnlyMemory<byte>> _send;
    private readonly int _sendLimit;
    private volatile bool _closed;
    private int _clientHelloFragments;

    public QueuedDatagramTransport(Action<ReadOnlyMemory<byte>> send, int sendLimit)
    {
        _send = send;
        _sendLimit = sendLimit;
    }

    /// <summary>
    /// ClientHello records that carried only part of the message (seen from Chromium 156: a 1,413-byte
    /// ClientHello with a post-quantum key share, in two records). Diagnostics and the interop test.
    /// </summary>
    public int ClientHelloFragments => Volatile.Read(ref _clientHelloFragments);

    public void Enqueue(ReadOnlySpan<byte> datagram)
    {
        if (_closed)
        {
            return;
        }

        // DTLS record header (13 bytes) then handshake header: type(1) length(3) seq(2) offset(3)
        // fragment length(3) (RFC 6347 §4.1, §4.2.2).
        if (datagram.Length >= 25 && datagram[0] == 22 && datagram[13] == 1
            && ((datagram[22] << 16) | (datagram[23] << 8) | datagram[24]) < ((datagram[14] << 16) | (datagram[15] << 8) | datagram[16]))
        {
            Interlocked.Increment(ref _clientHelloFragments);
        }

        _incoming.TryAdd(datagram.ToArray());
    }

    public int GetReceiveLimit() => 1500;

    /// <summary>The largest datagram the engine may send; it fragments handshake messages to fit.</summary>
    public int GetSendLimit() => _sendLimit;

    public int Receive(byte[] buf, int off, int len, int waitMillis) => Receive(buf.AsSpan(off, len), waitMillis);

    public int Receive(Span<byte> buffer, int waitMillis)
    {
        if (_closed)
        {
            throw new IOException("The DTLS transport is closed.");
        }

        byte[]? datagram;
        try
        {
            // BouncyCastle: a wait of zero means no timeout; -1 back means the wait expired.
            if (!_incoming.TryTake(out datagram, waitMillis == 0 ? Timeout.Infinite : waitMillis))
            {
                return -1;
            }
        }
        catch (ObjectDisposedException)
        {
            throw new IOException("The DTLS transport is closed.");
        }

        var length = Math.Min(buffer.Length, datagram.Length);
        datagram.AsSpan(0, length).CopyTo(buffer);
        return length;
    }

    public void Send(byte[] buf, int off, int len) => Send(buf.AsSpan(off, len));

    public void Send(ReadOnlySpan<byte> buffer)
    {
        if (!_closed)
        {
            _send(buffer.ToArray());
        }
    }

    public void Close()
    {
        _closed = true;
        _incoming.CompleteAdding();
    }
}

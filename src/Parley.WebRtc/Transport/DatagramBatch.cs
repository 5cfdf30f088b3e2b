using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Parley.WebRtc.Transport;

/// <summary>
/// A batch of datagrams for Linux's <c>recvmmsg(2)</c> and <c>sendmmsg(2)</c>: one system call moves up to
/// <see cref="Capacity"/> datagrams. An SFU forwards each received packet to every subscriber, so one receive
/// becomes many sends; per datagram, <c>sendto</c> pays the system call, the socket lookup and .NET's marshalling
/// again, and batching pays them once per batch (the kernel's per-datagram work stays).
/// </summary>
/// <remarks>
/// The native structures live in pinned arrays written field by field, so no unsafe code is needed: on LP64
/// Linux (x64, arm64) <c>struct iovec</c> is {base, len} = 16 bytes, <c>struct msghdr</c> is {name, namelen,
/// iov, iovlen, control, controllen, flags} = 56 bytes and <c>struct mmsghdr</c> adds <c>msg_len</c> = 64 bytes.
/// Socket addresses are the native <c>sockaddr</c> bytes that <see cref="SocketAddress"/> holds on Unix.
/// </remarks>
internal sealed class DatagramBatch
{
    /// <summary>Bytes per datagram slot: above any RTP/RTCP/DTLS datagram at a 1500-byte MTU.</summary>
    public const int SlotBytes = 2048;

    private const int NameBytes = 128;      // sizeof(struct sockaddr_storage)
    private const int IovecBytes = 16;
    private const int HeaderBytes = 64;     // sizeof(struct mmsghdr)
    private const int MsgNameLenOffset = 8;
    private const int MsgFlagsOffset = 48;
    private const int MsgLenOffset = 56;
    private const int MsgTrunc = 0x20;
    private const int MsgWaitForOne = 0x10000;
    private const int Eintr = 4;

    private readonly byte[] _data;
    private readonly byte[] _names;
    private readonly byte[] _iovecs;
    private readonly byte[] _headers;
    private readonly nint _headersAddress;

    public DatagramBatch(int capacity)
    {
        Capacity = capacity;
        _data = GC.AllocateArray<byte>(capacity * SlotBytes, pinned: true);
        _names = GC.AllocateArray<byte>(capacity * NameBytes, pinned: true);
        _iovecs = GC.AllocateArray<byte>(capacity * IovecBytes, pinned: true);
        _headers = GC.AllocateArray<byte>(capacity * HeaderBytes, pinned: true);
        _headersAddress = Marshal.UnsafeAddrOfPinnedArrayElement(_headers, 0);
        for (var i = 0; i < capacity; i++)
        {
            var iovec = _iovecs.AsSpan(i * IovecBytes, IovecBytes);
            MemoryMarshal.Write(iovec, (long)Marshal.UnsafeAddrOfPinnedArrayElement(_data, i * SlotBytes));
            MemoryMarshal.Write(iovec[8..], (long)SlotBytes);
            var header = _headers.AsSpan(i * HeaderBytes, HeaderBytes);
            MemoryMarshal.Write(header, (long)Marshal.UnsafeAddrOfPinnedArrayElement(_names, i * NameBytes));
            MemoryMarshal.Write(header[MsgNameLenOffset..], NameBytes);
            MemoryMarshal.Write(header[16..], (long)Marshal.UnsafeAddrOfPinnedArrayElement(_iovecs, i * IovecBytes));
            MemoryMarshal.Write(header[24..], 1L);
        }
    }

    /// <summary>Whether this process can use the batch (Linux on a 64-bit architecture with the LP64 layout).</summary>
    public static bool IsSupported =>
        OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    public int Capacity { get; }

    /// <summary>Datagrams queued by <see cref="TryAdd"/> and not yet sent.</summary>
    public int Count { get; private set; }

    /// <summary>Datagrams the last <see cref="Receive"/> returned.</summary>
    public int Received { get; private set; }

    /// <summary>
    /// Blocks until at least one datagram arrives (or the socket's receive timeout passes), then takes every
    /// datagram already queued, up to <see cref="Capacity"/>. Returns the count, or -1 with the errno.
    /// </summary>
    public int Receive(int fd, out int errno)
    {
        for (var i = 0; i < Capacity; i++)
        {
            // The kernel overwrites both lengths with what it wrote.
            MemoryMarshal.Write(_headers.AsSpan(i * HeaderBytes + MsgNameLenOffset), NameBytes);
            MemoryMarshal.Write(_iovecs.AsSpan(i * IovecBytes + 8), (long)SlotBytes);
        }

        var count = recvmmsg(fd, _headersAddress, (uint)Capacity, MsgWaitForOne, 0);
        errno = count < 0 ? Marshal.GetLastPInvokeError() : 0;
        Received = Math.Max(count, 0);
        return count;
    }

    /// <summary>Received datagram <paramref name="index"/>; false when the kernel truncated it (larger than a slot).</summary>
    public bool TryGetReceived(int index, SocketAddress from, out Span<byte> datagram)
    {
        var header = _headers.AsSpan(index * HeaderBytes, HeaderBytes);
        var length = MemoryMarshal.Read<int>(header[MsgLenOffset..]);
        var nameLength = MemoryMarshal.Read<int>(header[MsgNameLenOffset..]);
        var flags = MemoryMarshal.Read<int>(header[MsgFlagsOffset..]);
        if ((flags & MsgTrunc) != 0 || length > SlotBytes || nameLength <= 0 || nameLength > from.Buffer.Length)
        {
            datagram = default;
            return false;
        }

        _names.AsSpan(index * NameBytes, nameLength).CopyTo(from.Buffer.Span);
        from.Size = nameLength;
        datagram = _data.AsSpan(index * SlotBytes, length);
        return true;
    }

    /// <summary>Queues a copy of a datagram for <see cref="Flush"/>; false when it does not fit (full, or too large).</summary>
    public bool TryAdd(ReadOnlySpan<byte> datagram, SocketAddress to)
    {
        if (Count == Capacity || datagram.Length > SlotBytes || to.Size > NameBytes)
        {
            return false;
        }

        var index = Count++;
        datagram.CopyTo(_data.AsSpan(index * SlotBytes));
        to.Buffer.Span[..to.Size].CopyTo(_names.AsSpan(index * NameBytes));
        var header = _headers.AsSpan(index * HeaderBytes, HeaderBytes);
        MemoryMarshal.Write(header[MsgNameLenOffset..], to.Size);
        MemoryMarshal.Write(_iovecs.AsSpan(index * IovecBytes + 8), (long)datagram.Length);
        return true;
    }

    /// <summary>
    /// Sends every queued datagram, as few system calls as the kernel allows. A datagram the kernel refuses (no
    /// route, buffer full) is skipped and counted, like a failed <c>sendto</c>: UDP loss, never an exception.
    /// Returns the number refused.
    /// </summary>
    public int Flush(int fd)
    {
        var refused = 0;
        var sent = 0;
        while (sent < Count)
        {
            var result = sendmmsg(fd, _headersAddress + (sent * HeaderBytes), (uint)(Count - sent), 0);
            if (result > 0)
            {
                sent += result;
            }
            else if (result < 0 && Marshal.GetLastPInvokeError() == Eintr)
            {
                continue;
            }
            else
            {
                // The first remaining datagram failed: drop it and go on with the rest.
                sent++;
                refused++;
            }
        }

        Count = 0;
        return refused;
    }

    // recvmmsg(2), sendmmsg(2): glibc and musl export both. Blittable arguments only, so the runtime's stub does
    // no marshalling (LibraryImport would need unsafe code, which this project does not allow).
#pragma warning disable SYSLIB1054
    [DllImport("libc", SetLastError = true)]
    private static extern int recvmmsg(int fd, nint messages, uint count, int flags, nint timeout);

    [DllImport("libc", SetLastError = true)]
    private static extern int sendmmsg(int fd, nint messages, uint count, int flags);
#pragma warning restore SYSLIB1054
}

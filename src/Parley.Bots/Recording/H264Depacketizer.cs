using System.Buffers.Binary;
using Parley.WebRtc.Rtp;

namespace Parley.Bots.Recording;

/// <summary>How <see cref="H264Depacketizer"/> delimits the NAL units of an access unit.</summary>
public enum H264OutputFormat
{
    /// <summary>4-byte big-endian length before each NAL unit (ISO/IEC 14496-15): Matroska and MP4 samples.</summary>
    Avcc,

    /// <summary>Start code 00 00 00 01 before each NAL unit (H.264 Annex B): raw .h264 streams.</summary>
    AnnexB,
}

/// <summary>
/// H.264 RTP depacketization, non-interleaved mode (RFC 6184 §6.3): single NAL unit packets (types 1–23),
/// STAP-A aggregates (24) and FU-A fragments (28) are put back into NAL units, and the NAL units of one access
/// unit (same RTP timestamp, ended by the marker bit, §5.1) are emitted together in <see cref="H264OutputFormat"/>.
/// An access unit with an IDR slice is a key frame; the latest SPS and PPS are kept and put in front of an IDR
/// access unit that came without them, so every key frame can start decoding. An access unit touched by a loss
/// or a malformed packet is dropped whole. Allocation-free once its buffers have grown.
/// <code>
/// NAL header (§1.3)   STAP-A (§5.7.1)                              FU-A (§5.8)
/// +-+-+-+-+-+-+-+-+   +----------+-----------+------+-----------+    +-------------+-------------+---------
/// |F|NRI|  Type   |   | hdr (24) | size (16) | NALU | size | ... |    | FU indicator|S|E|R| Type  | fragment
/// +-+-+-+-+-+-+-+-+   +----------+-----------+------+-----------+    +-------------+-------------+---------
/// </code>
/// </summary>
public sealed class H264Depacketizer(IFrameSink sink, H264OutputFormat format = H264OutputFormat.Avcc) : IDepacketizer
{
    private const int NalIdr = 5;
    private const int NalSps = 7;
    private const int NalPps = 8;
    private const int StapA = 24;
    private const int FuA = 28;

    private readonly FrameBuffer _frame = new(64 * 1024);
    private readonly FrameBuffer _withParameterSets = new(1024);
    private readonly FrameBuffer _sps = new(64);
    private readonly FrameBuffer _pps = new(64);
    private bool _assembling;
    private bool _broken;
    private uint _timestamp;
    private bool _hasIdr;
    private bool _hasSps;
    private bool _hasPps;
    private int _fragmentStart = -1;

    public H264OutputFormat Format => format;

    public long FramesEmitted { get; private set; }

    public long FramesDropped { get; private set; }

    /// <summary>Packets that did not parse or used a packetization this mode does not allow (STAP-B, MTAP, FU-B).</summary>
    public long MalformedPackets { get; private set; }

    /// <summary>The latest sequence parameter set NAL unit (header included), empty before one arrived.</summary>
    public ReadOnlySpan<byte> SequenceParameterSet => _sps.Span;

    /// <summary>The latest picture parameter set NAL unit (header included), empty before one arrived.</summary>
    public ReadOnlySpan<byte> PictureParameterSet => _pps.Span;

    /// <summary>Picture size from the latest SPS (0 before one parsed).</summary>
    public int Width { get; private set; }

    public int Height { get; private set; }

    public void Push(RtpPacket packet)
    {
        var payload = packet.Payload;
        if (payload.IsEmpty)
        {
            return; // padding only
        }

        if (_assembling && packet.Timestamp != _timestamp)
        {
            EndAccessUnit(); // the marker of the previous access unit was missing
        }

        if (!_assembling)
        {
            _assembling = true;
            _timestamp = packet.Timestamp;
            _frame.Clear();
            _hasIdr = _hasSps = _hasPps = false;
            _fragmentStart = -1;
        }

        if (!_broken && !Depacketize(payload))
        {
            MalformedPackets++;
            _broken = true;
        }

        if (packet.Marker)
        {
            EndAccessUnit();
        }
    }

    /// <summary>
    /// Lost packets belong to the access unit being assembled, or to the next one when none is: either is
    /// dropped (without its NAL units a decoder would show corruption until the next key frame anyway).
    /// </summary>
    public void OnLoss() => _broken = true;

    public void Reset()
    {
        if (_assembling)
        {
            FramesDropped++;
        }

        _assembling = false;
        _broken = false;
        _fragmentStart = -1;
    }

    public void Dispose()
    {
        _frame.Dispose();
        _withParameterSets.Dispose();
        _sps.Dispose();
        _pps.Dispose();
    }

    private bool Depacketize(ReadOnlySpan<byte> payload)
    {
        var type = payload[0] & 0x1F;
        if (type is >= 1 and <= 23)
        {
            if (_fragmentStart >= 0)
            {
                return false; // a fragmented NAL unit was not finished
            }

            AppendNal(payload);
            return true;
        }

        if (type == StapA)
        {
            if (_fragmentStart >= 0)
            {
                return false;
            }

            var offset = 1;
            var count = 0;
            while (offset < payload.Length)
            {
                if (offset + 2 > payload.Length)
                {
                    return false;
                }

                var size = BinaryPrimitives.ReadUInt16BigEndian(payload[offset..]);
                offset += 2;
                if (size == 0 || offset + size > payload.Length)
                {
                    return false;
                }

                AppendNal(payload.Slice(offset, size));
                offset += size;
                count++;
            }

            return count > 0;
        }

        if (type == FuA)
        {
            if (payload.Length < 3)
            {
                return false;
            }

            var header = payload[1];
            var start = (header & 0x80) != 0;
            var end = (header & 0x40) != 0;
            if (start)
            {
                if (_fragmentStart >= 0)
                {
                    return false;
                }

                // The NAL header is rebuilt from the FU indicator's F and NRI and the FU header's type (§5.8).
                _fragmentStart = BeginNal();
                _frame.Append((byte)((payload[0] & 0xE0) | (header & 0x1F)));
            }
            else if (_fragmentStart < 0)
            {
                return false; // the start fragment was lost
            }

            _frame.Append(payload[2..]);
            if (end)
            {
                EndNal(_fragmentStart);
                _fragmentStart = -1;
            }

            return true;
        }

        return false;
    }

    private void AppendNal(ReadOnlySpan<byte> nal)
    {
        var start = BeginNal();
        _frame.Append(nal);
        EndNal(start);
    }

    /// <summary>Writes the length prefix or start code; returns where the NAL unit itself will start.</summary>
    private int BeginNal()
    {
        var prefix = _frame.GetSpan(4);
        if (format == H264OutputFormat.AnnexB)
        {
            prefix[0] = 0;
            prefix[1] = 0;
            prefix[2] = 0;
            prefix[3] = 1;
        }

        _frame.Advance(4);
        return _frame.Length;
    }

    private void EndNal(int start)
    {
        var length = _frame.Length - start;
        if (format == H264OutputFormat.Avcc)
        {
            BinaryPrimitives.WriteInt32BigEndian(_frame.Written(start - 4, 4), length);
        }

        var nal = _frame.Span.Slice(start, length);
        switch (nal[0] & 0x1F)
        {
            case NalIdr:
                _hasIdr = true;
                break;
            case NalSps:
                _hasSps = true;
                if (!nal.SequenceEqual(_sps.Span))
                {
                    _sps.Clear();
                    _sps.Append(nal);
                    if (H264SequenceParameterSet.TryParse(nal, out var sps))
                    {
                        Width = sps.Width;
                        Height = sps.Height;
                    }
                }

                break;
            case NalPps:
                _hasPps = true;
                if (!nal.SequenceEqual(_pps.Span))
                {
                    _pps.Clear();
                    _pps.Append(nal);
                }

                break;
        }
    }

    private void EndAccessUnit()
    {
        _assembling = false;
        if (_broken || _fragmentStart >= 0 || _frame.Length == 0)
        {
            _broken = false;
            _fragmentStart = -1;
            FramesDropped++;
            return;
        }

        var data = _frame.Span;
        if (_hasIdr && (!_hasSps || !_hasPps) && _sps.Length > 0 && _pps.Length > 0)
        {
            _withParameterSets.Clear();
            if (!_hasSps)
            {
                AppendPrefixed(_withParameterSets, _sps.Span);
            }

            if (!_hasPps)
            {
                AppendPrefixed(_withParameterSets, _pps.Span);
            }

            _withParameterSets.Append(data);
            data = _withParameterSets.Span;
        }

        FramesEmitted++;
        sink.OnFrame(new EncodedFrame(data, _timestamp, _hasIdr, _hasIdr ? Width : 0, _hasIdr ? Height : 0));
    }

    private void AppendPrefixed(FrameBuffer buffer, ReadOnlySpan<byte> nal)
    {
        var prefix = buffer.GetSpan(4);
        if (format == H264OutputFormat.Avcc)
        {
            BinaryPrimitives.WriteInt32BigEndian(prefix, nal.Length);
        }
        else
        {
            prefix[0] = 0;
            prefix[1] = 0;
            prefix[2] = 0;
            prefix[3] = 1;
        }

        buffer.Advance(4);
        buffer.Append(nal);
    }
}

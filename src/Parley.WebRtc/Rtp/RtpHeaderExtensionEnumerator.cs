namespace Parley.WebRtc.Rtp;

/// <summary>One RTP header extension element (RFC 8285): its local id and value.</summary>
public readonly ref struct RtpHeaderExtension
{
    public RtpHeaderExtension(int id, ReadOnlySpan<byte> value)
    {
        Id = id;
        Value = value;
    }

    public int Id { get; }

    public ReadOnlySpan<byte> Value { get; }
}

/// <summary>
/// Walks the elements of an RTP header extension block in either RFC 8285 form. Stops at the first
/// malformed element (never throws), so a damaged block yields only the elements before the damage.
/// <code>
/// One-byte form (profile 0xBEDE, RFC 8285 §4.2), ids 1..14, length L+1 = 1..16:
///  0 1 2 3 4 5 6 7
/// +-+-+-+-+-+-+-+-+
/// |  ID   |  len  |  data (len+1 bytes) ...   ID 0 = padding byte, ID 15 = stop
/// +-+-+-+-+-+-+-+-+
/// Two-byte form (profile 0x100X, RFC 8285 §4.3), ids 1..255, length 0..255:
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |       ID      |     length    |  data (length bytes) ...   ID 0 = padding byte
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </summary>
public ref struct RtpHeaderExtensionEnumerator
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly bool _oneByte;
    private readonly bool _twoByte;
    private int _offset;

    public RtpHeaderExtensionEnumerator(ushort profile, ReadOnlySpan<byte> data)
    {
        _data = data;
        _oneByte = profile == RtpPacket.OneByteExtensionProfile;
        _twoByte = (profile & 0xFFF0) == RtpPacket.TwoByteExtensionProfile;
        _offset = 0;
        Current = default;
    }

    public RtpHeaderExtension Current { get; private set; }

    public readonly RtpHeaderExtensionEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_oneByte)
        {
            while (_offset < _data.Length)
            {
                var b = _data[_offset];
                if (b == 0)
                {
                    _offset++;
                    continue;
                }

                var id = b >> 4;
                if (id == 15)
                {
                    break; // RFC 8285 §4.2: stop processing.
                }

                var length = (b & 0x0F) + 1;
                if (_offset + 1 + length > _data.Length)
                {
                    break;
                }

                Current = new RtpHeaderExtension(id, _data.Slice(_offset + 1, length));
                _offset += 1 + length;
                return true;
            }
        }
        else if (_twoByte)
        {
            while (_offset < _data.Length)
            {
                var id = _data[_offset];
                if (id == 0)
                {
                    _offset++;
                    continue;
                }

                if (_offset + 2 > _data.Length)
                {
                    break;
                }

                var length = _data[_offset + 1];
                if (_offset + 2 + length > _data.Length)
                {
                    break;
                }

                Current = new RtpHeaderExtension(id, _data.Slice(_offset + 2, length));
                _offset += 2 + length;
                return true;
            }
        }

        _offset = _data.Length;
        return false;
    }
}

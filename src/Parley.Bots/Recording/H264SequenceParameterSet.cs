namespace Parley.Bots.Recording;

/// <summary>The fields of an H.264 sequence parameter set a recorder needs: profile, level and picture size.</summary>
public readonly record struct H264SequenceParameterSet(int ProfileIdc, int ConstraintFlags, int LevelIdc, int Width, int Height)
{
    /// <summary>
    /// Parses an SPS NAL unit (ITU-T H.264 §7.3.2.1.1), header byte included, as far as the frame cropping
    /// fields. Emulation prevention bytes (§7.4.1: 0x000003) are skipped while reading. Never throws.
    /// <code>
    /// +--------+-------------+-------------+-----------+------------------------------------------------+
    /// | NAL hdr| profile_idc | constraints | level_idc | ue(v) sps_id, [chroma, bit depths, scaling], ...  |
    /// | type 7 |   u(8)      |    u(8)     |   u(8)    | pic_width_in_mbs_minus1, pic_height_in_map_units |
    /// +--------+-------------+-------------+-----------+------------------------------------------------+
    /// </code>
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> nal, out H264SequenceParameterSet sps)
    {
        sps = default;
        if (nal.Length < 4 || (nal[0] & 0x1F) != 7)
        {
            return false;
        }

        var profile = nal[1];
        var constraints = nal[2];
        var level = nal[3];
        var bits = new RbspBitReader(nal[4..]);
        if (!bits.TryReadUe(out _))
        {
            return false;
        }

        uint chromaFormat = 1;
        var separateColourPlane = false;
        if (profile is 100 or 110 or 122 or 244 or 44 or 83 or 86 or 118 or 128 or 138 or 139 or 134 or 135)
        {
            if (!bits.TryReadUe(out chromaFormat) || chromaFormat > 3)
            {
                return false;
            }

            if (chromaFormat == 3 && !bits.TryReadBit(out separateColourPlane))
            {
                return false;
            }

            if (!bits.TryReadUe(out _) || !bits.TryReadUe(out _) || !bits.TryReadBit(out _) || !bits.TryReadBit(out var scalingMatrix))
            {
                return false;
            }

            if (scalingMatrix)
            {
                var lists = chromaFormat != 3 ? 8 : 12;
                for (var i = 0; i < lists; i++)
                {
                    if (!bits.TryReadBit(out var present))
                    {
                        return false;
                    }

                    if (present && !SkipScalingList(ref bits, i < 6 ? 16 : 64))
                    {
                        return false;
                    }
                }
            }
        }

        if (!bits.TryReadUe(out _) || !bits.TryReadUe(out var pocType))
        {
            return false;
        }

        if (pocType == 0)
        {
            if (!bits.TryReadUe(out _))
            {
                return false;
            }
        }
        else if (pocType == 1)
        {
            if (!bits.TryReadBit(out _) || !bits.TryReadSe(out _) || !bits.TryReadSe(out _) || !bits.TryReadUe(out var cycle) || cycle > 255)
            {
                return false;
            }

            for (var i = 0; i < cycle; i++)
            {
                if (!bits.TryReadSe(out _))
                {
                    return false;
                }
            }
        }

        if (!bits.TryReadUe(out _) || !bits.TryReadBit(out _)
            || !bits.TryReadUe(out var widthMbsMinus1) || !bits.TryReadUe(out var heightMapUnitsMinus1)
            || !bits.TryReadBit(out var frameMbsOnly))
        {
            return false;
        }

        if (!frameMbsOnly && !bits.TryReadBit(out _))
        {
            return false;
        }

        if (!bits.TryReadBit(out _) || !bits.TryReadBit(out var cropping))
        {
            return false;
        }

        uint left = 0, right = 0, top = 0, bottom = 0;
        if (cropping && (!bits.TryReadUe(out left) || !bits.TryReadUe(out right) || !bits.TryReadUe(out top) || !bits.TryReadUe(out bottom)))
        {
            return false;
        }

        // §7.4.2.1.1: crop units depend on the chroma format (ChromaArrayType 0 when planes are separate).
        var chromaArrayType = separateColourPlane ? 0 : chromaFormat;
        var frameHeightFactor = frameMbsOnly ? 1 : 2;
        long cropX = chromaArrayType is 1 or 2 ? 2 : 1;
        long cropY = (chromaArrayType == 1 ? 2 : 1) * frameHeightFactor;
        var width = ((widthMbsMinus1 + 1L) * 16) - (cropX * (left + right));
        var height = (frameHeightFactor * (heightMapUnitsMinus1 + 1L) * 16) - (cropY * (top + bottom));
        if (width <= 0 || height <= 0 || width > 16384 || height > 16384)
        {
            return false;
        }

        sps = new H264SequenceParameterSet(profile, constraints, level, (int)width, (int)height);
        return true;
    }

    /// <summary>scaling_list() of §7.3.2.1.1.1: only read to get past it.</summary>
    private static bool SkipScalingList(ref RbspBitReader bits, int size)
    {
        int last = 8, next = 8;
        for (var j = 0; j < size; j++)
        {
            if (next != 0)
            {
                if (!bits.TryReadSe(out var delta))
                {
                    return false;
                }

                next = (int)((last + delta + 256) % 256);
            }

            last = next == 0 ? last : next;
        }

        return true;
    }

    /// <summary>Reads bits of an RBSP from NAL bytes, dropping emulation prevention bytes (H.264 §7.4.1).</summary>
    private ref struct RbspBitReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _byte;
        private int _bit;
        private int _zeros;
        private byte _current;
        private bool _loaded;

        public bool TryReadBit(out bool value)
        {
            value = false;
            if (!_loaded)
            {
                if (_byte >= _data.Length)
                {
                    return false;
                }

                var b = _data[_byte];
                if (_zeros >= 2 && b == 3)
                {
                    // 0x00 0x00 0x03: the 0x03 is not part of the RBSP.
                    _byte++;
                    _zeros = 0;
                    if (_byte >= _data.Length)
                    {
                        return false;
                    }

                    b = _data[_byte];
                }

                _zeros = b == 0 ? _zeros + 1 : 0;
                _current = b;
                _loaded = true;
                _bit = 0;
            }

            value = ((_current >> (7 - _bit)) & 1) != 0;
            if (++_bit == 8)
            {
                _loaded = false;
                _byte++;
            }

            return true;
        }

        /// <summary>ue(v), Exp-Golomb (§9.1); at most 31 leading zeros.</summary>
        public bool TryReadUe(out uint value)
        {
            value = 0;
            var zeros = 0;
            while (true)
            {
                if (!TryReadBit(out var bit))
                {
                    return false;
                }

                if (bit)
                {
                    break;
                }

                if (++zeros > 31)
                {
                    return false;
                }
            }

            ulong suffix = 0;
            for (var i = 0; i < zeros; i++)
            {
                if (!TryReadBit(out var bit))
                {
                    return false;
                }

                suffix = (suffix << 1) | (bit ? 1UL : 0UL);
            }

            value = (uint)((1UL << zeros) - 1 + suffix);
            return true;
        }

        /// <summary>se(v) (§9.1.1): 1, -1, 2, -2, ...</summary>
        public bool TryReadSe(out long value)
        {
            value = 0;
            if (!TryReadUe(out var k))
            {
                return false;
            }

            value = (k & 1) != 0 ? (k + 1L) / 2 : -(k / 2L);
            return true;
        }
    }
}

namespace Parley.WebRtc.Tests.Fuzz;

/// <summary>
/// A small seeded mutation fuzzer: half the inputs are random bytes (with a plausible first byte),
/// half are well-formed seed packets with a few random mutations (bit flips, byte sets, length-field
/// overwrites, truncation, extension, splices). A failure names the seed and iteration, so it replays.
/// </summary>
internal static class Fuzzer
{
    public const int Iterations = 100_000;

    public static void Run(int seed, IReadOnlyList<byte[]> corpus, Action<byte[]> target, byte[]? firstBytes = null)
    {
        // A deadline turns a hang into a failure instead of a stuck test run.
        var work = Task.Run(() => Loop(seed, corpus, target, firstBytes));
        Assert.True(work.Wait(TimeSpan.FromMinutes(2)), $"fuzz run with seed {seed} did not finish: a parser hangs");
        work.GetAwaiter().GetResult();
    }

    private static void Loop(int seed, IReadOnlyList<byte[]> corpus, Action<byte[]> target, byte[]? firstBytes)
    {
        var random = new Random(seed);
        for (var i = 0; i < Iterations; i++)
        {
            var input = i % 2 == 0 ? RandomPacket(random, firstBytes) : Mutate(random, corpus[random.Next(corpus.Count)], corpus);
            try
            {
                target(input);
            }
            catch (Exception e)
            {
                throw new InvalidOperationException(
                    $"seed {seed}, iteration {i}, input {Convert.ToHexString(input)}: {e.GetType().Name}: {e.Message}", e);
            }
        }
    }

    private static byte[] RandomPacket(Random random, byte[]? firstBytes)
    {
        // Mostly short packets, where length checks matter most; sometimes MTU-sized.
        var length = random.Next(4) == 0 ? random.Next(1500) : random.Next(64);
        var bytes = new byte[length];
        random.NextBytes(bytes);
        if (length > 0 && firstBytes is not null && random.Next(4) != 0)
        {
            bytes[0] = firstBytes[random.Next(firstBytes.Length)];
        }

        return bytes;
    }

    private static byte[] Mutate(Random random, byte[] original, IReadOnlyList<byte[]> corpus)
    {
        var bytes = new List<byte>(original);
        var mutations = 1 + random.Next(4);
        for (var m = 0; m < mutations; m++)
        {
            switch (random.Next(7))
            {
                case 0 when bytes.Count > 0:
                    var at = random.Next(bytes.Count);
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when bytes.Count > 0:
                    bytes[random.Next(bytes.Count)] = (byte)random.Next(256);
                    break;
                case 2 when bytes.Count > 1:
                    // Overwrite a 16-bit big-endian field (lengths, counts) with an extreme value.
                    var field = random.Next(bytes.Count - 1);
                    var value = random.Next(3) switch { 0 => 0, 1 => 0xFFFF, _ => random.Next(0x10000) };
                    bytes[field] = (byte)(value >> 8);
                    bytes[field + 1] = (byte)value;
                    break;
                case 3 when bytes.Count > 0:
                    var cut = random.Next(bytes.Count + 1);
                    bytes.RemoveRange(cut, bytes.Count - cut);
                    break;
                case 4:
                    var extra = new byte[random.Next(1, 40)];
                    random.NextBytes(extra);
                    bytes.AddRange(extra);
                    break;
                case 5:
                    var other = corpus[random.Next(corpus.Count)];
                    if (other.Length > 0)
                    {
                        var start = random.Next(other.Length);
                        bytes.AddRange(other.AsSpan(start, random.Next(other.Length - start + 1)).ToArray());
                    }

                    break;
                default:
                    if (bytes.Count > 2)
                    {
                        bytes.RemoveAt(random.Next(bytes.Count));
                    }

                    break;
            }
        }

        return [.. bytes];
    }
}

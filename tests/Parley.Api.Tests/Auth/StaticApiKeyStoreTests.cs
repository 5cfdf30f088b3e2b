using Parley.Api.Auth;
using Parley.Testing;

namespace Parley.Api.Tests.Auth;

public sealed class StaticApiKeyStoreTests
{
    [Fact]
    public void First_start_generates_a_64_hex_key_readable_by_the_owner_only()
    {
        using var dir = new TempDirectory();

        var key = StaticApiKeyStore.Resolve(null, Path.Combine(dir.Path, "data"));

        Assert.True(key.Generated);
        Assert.Matches("^[0-9a-f]{64}$", key.Value);
        Assert.Equal(key.Value, File.ReadAllText(key.FilePath!).Trim());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key.FilePath!));
    }

    [Fact]
    public void Later_starts_reuse_the_stored_key_and_do_not_regenerate()
    {
        using var dir = new TempDirectory();
        var first = StaticApiKeyStore.Resolve(null, dir.Path);

        var second = StaticApiKeyStore.Resolve(null, dir.Path);

        Assert.False(second.Generated);
        Assert.Equal(first.Value, second.Value);
    }

    [Fact]
    public void A_configured_key_wins_and_writes_nothing()
    {
        using var dir = new TempDirectory();

        var key = StaticApiKeyStore.Resolve("configured-key-0123456789", dir.Path);

        Assert.Equal("configured-key-0123456789", key.Value);
        Assert.False(key.Generated);
        Assert.Null(key.FilePath);
        Assert.False(File.Exists(Path.Combine(dir.Path, StaticApiKeyStore.FileName)));
    }
}

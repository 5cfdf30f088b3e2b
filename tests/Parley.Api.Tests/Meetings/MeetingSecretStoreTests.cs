using Parley.Api.Meetings;
using Parley.Testing;

namespace Parley.Api.Tests.Meetings;

public sealed class MeetingSecretStoreTests
{
    [Fact]
    public void A_configured_secret_is_used_as_it_is_and_nothing_is_written()
    {
        using var dir = new TempDirectory();
        var key = MeetingSecretStore.Resolve("configured-secret-configured-secret-1234", dir.Path);
        Assert.Equal("configured-secret-configured-secret-1234"u8.ToArray(), key.Key.ToArray());
        Assert.Null(key.FilePath);
        Assert.False(File.Exists(Path.Combine(dir.Path, MeetingSecretStore.FileName)));
    }

    [Fact]
    public void An_unset_secret_is_generated_once_with_mode_0600_and_read_back()
    {
        using var dir = new TempDirectory();
        var data = Path.Combine(dir.Path, "data");
        var first = MeetingSecretStore.Resolve(null, data);
        Assert.True(first.Generated);
        var path = Path.Combine(data, MeetingSecretStore.FileName);
        Assert.Equal(Path.GetFullPath(path), first.FilePath);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        var text = File.ReadAllText(path).Trim();
        Assert.Matches("^[0-9a-f]{64}$", text);
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(text), first.Key.ToArray());

        var second = MeetingSecretStore.Resolve(null, data);
        Assert.False(second.Generated);
        Assert.Equal(first.Key.ToArray(), second.Key.ToArray());
    }

    [Fact]
    public void A_stored_secret_that_is_too_short_is_refused_with_a_clear_message()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(Path.Combine(dir.Path, MeetingSecretStore.FileName), "short\n");
        var ex = Assert.Throws<InvalidOperationException>(() => MeetingSecretStore.Resolve(null, dir.Path));
        Assert.Contains("JWT_SECRET", ex.Message, StringComparison.Ordinal);
    }
}

using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Parley.WebRtc.Tests")]
[assembly: InternalsVisibleTo("Parley.Benchmarks")]

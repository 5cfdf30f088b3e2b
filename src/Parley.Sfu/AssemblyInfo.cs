using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Parley.Sfu.Tests")]
[assembly: InternalsVisibleTo("Parley.Benchmarks")]

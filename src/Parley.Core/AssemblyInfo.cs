using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Parley.Core.Tests")]

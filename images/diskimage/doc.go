// Package diskimage opens a raw disk image read-only, finds its root
// filesystem and serves it as a read-only bootstrap/root.Root, so `hardbake
// audit --image` runs the same checks as a live audit without root, mounts
// or loop devices. Reading ext4 is go-diskfs's; finding partitions, telling
// what is on them and refusing what go-diskfs cannot read is ours, so every
// malformed input gets a clear error instead of a wrong answer or a panic.
//
// go-diskfs v1.9.4 facts this package is built around (each has a test):
//   - io/fs names: "." and "etc/ssh", never a leading slash;
//   - File.Read in chunks (and so its ReadFile, which uses io.ReadAll) panics
//     on files of several extents: files are read with one Read of their
//     whole size, and panics are recovered at this package's boundary;
//   - it needs metadata_csum, has no inline_data and ignores the journal, so
//     such filesystems and dirty journals are refused up front;
//   - no XFS, btrfs or qcow2: recognized by their magic and refused by name;
//   - writing corrupts htree directories: nothing here ever writes (the
//     image file is opened O_RDONLY).
package diskimage

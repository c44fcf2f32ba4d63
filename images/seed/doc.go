// Package seed writes NoCloud seed images that cloud-init and `hardbake
// firstboot` both read: an ISO 9660 volume labelled cidata (the default) or a
// FAT32 volume labelled CIDATA, holding user-data, meta-data, hardbake.yaml
// (the host data, which firstboot reads; not a user-data key, because
// cloud-init ≥ 23.4 calls a boot with unknown user-data keys degraded) and
// optionally network-config. It is built with go-diskfs, so no genisoimage, mkfs or
// mount is needed and it runs without root.
//
// go-diskfs v1.9.4 pitfalls this package works around (each has a test):
//   - the ISO volume label is FinalizeOptions.VolumeIdentifier; the
//     FilesystemSpec's VolumeLabel is ignored for ISO 9660;
//   - without Rock Ridge and Joliet the names are 8.3 upper case
//     (USER_DAT.;1), which cloud-init does not find;
//   - ISO 9660 needs a 2048-byte logical block size;
//   - FAT32 is malformed below about 33 MiB and at some sizes (64, 129 MiB),
//     so the FAT image is exactly FATSize; and Mkdir writes a bad ".." entry,
//     so the seed has no directories.
package seed

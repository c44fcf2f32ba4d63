package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/host"
	"github.com/hardbake/hardbake/images/seed"
)

// runSeed is `hardbake seed`: a NoCloud seed image for cloud-init and
// `hardbake firstboot`, validated before anything is written.
func runSeed(args []string, stdout, stderr io.Writer) error {
	var in seed.Input
	var hostFile, userData, metaData, network, format, out string
	fs := flag.NewFlagSet("hardbake seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&hostFile, "host", "", "per-host data `FILE` (YAML, as for `hardbake firstboot`); required")
	fs.StringVar(&userData, "user-data", "", "user-data `FILE`, written as given (#cloud-config is checked; default: a generated one); the host data goes beside it as hardbake.yaml")
	fs.StringVar(&metaData, "meta-data", "", "meta-data `FILE`, written as given (default: instance-id and local-hostname)")
	fs.StringVar(&network, "network-config", "", "network-config `FILE` (cloud-init network config v1 or v2)")
	fs.StringVar(&in.InstanceID, "instance-id", "", "instance-id `ID` (default: derived from the contents, so new data means a new instance)")
	fs.StringVar(&in.Hostname, "hostname", "", "local-hostname `NAME` (default: the host data's hostname)")
	fs.StringVar(&format, "format", seed.FormatISO, "`iso` (ISO 9660, volume id cidata) or vfat (FAT32, label CIDATA)")
	fs.StringVar(&out, "o", "", "write the seed image to `FILE`; required")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errReported
		}
		return fmt.Errorf("%w: %v", bootstrap.ErrInvalid, err)
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", bootstrap.ErrInvalid, fs.Arg(0))
	case hostFile == "":
		return fmt.Errorf("%w: seed: --host FILE is required", bootstrap.ErrInvalid)
	case out == "":
		return fmt.Errorf("%w: seed: -o FILE is required", bootstrap.ErrInvalid)
	case format != seed.FormatISO && format != seed.FormatVFAT:
		return fmt.Errorf("%w: seed: --format %q is not iso or vfat", bootstrap.ErrInvalid, format)
	}
	var err error
	read := func(flagName, file string) []byte {
		if file == "" || err != nil {
			return nil
		}
		var data []byte
		data, err = readLimited(file)
		if err != nil {
			err = fmt.Errorf("%w: --%s: %v", bootstrap.ErrInvalid, flagName, err)
		} else if data == nil {
			data = []byte{}
		}
		return data
	}
	in.Host, in.HostSource = read("host", hostFile), hostFile
	in.UserData, in.UserDataSource = read("user-data", userData), userData
	in.MetaData, in.MetaDataSource = read("meta-data", metaData), metaData
	in.NetworkConfig, in.NetworkSource = read("network-config", network), network
	if err != nil {
		return err
	}
	s, err := seed.Build(in)
	if err != nil {
		return err
	}
	for _, w := range s.Warnings {
		fmt.Fprintf(stderr, "hardbake: warning: %s: %s\n", userData, w)
	}
	if err := seed.Write(out, format, s.Contents); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(stdout, "seed: wrote %s (%s) for %s\n", out, format, describeHost(s.Host))
	return nil
}

func readLimited(file string) ([]byte, error) {
	fi, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	if fi.Size() > host.MaxSize {
		return nil, fmt.Errorf("%s is %d bytes; at most %d", file, fi.Size(), host.MaxSize)
	}
	return os.ReadFile(file)
}

// describeHost names what the seed carries; keys only by fingerprint.
func describeHost(h *host.Host) string {
	s := "host data"
	if h.HasUser() {
		s = fmt.Sprintf("user %s with %d key(s) %v", h.User.Name, len(h.Keys), h.Fingerprints())
	}
	if h.Hostname != "" {
		s += ", hostname " + h.Hostname
	}
	return s
}

// Command baseimage prints the directory of the cached bootable Debian image
// for a suite (disk.raw, vmlinuz, initrd.img), building it first when missing
// (scripts/pipeline.sh uses it):
//
//	go run ./internal/baseimage/cmd/baseimage bookworm
//
// Progress goes to stderr, the directory alone to stdout. Needs root when it
// has to build.
package main

import (
	"fmt"
	"os"

	"github.com/hardbake/hardbake/internal/baseimage"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: baseimage SUITE   (bookworm or trixie)")
		os.Exit(2)
	}
	img, err := baseimage.Build(os.Args[1], func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(img.Dir)
}

// Command roottar prints the path of the cached Debian root tarball for a
// suite, building it first when missing (scripts/demo.sh uses it):
//
//	go run ./internal/testroot/cmd/roottar bookworm
//
// Progress goes to stderr, the path alone to stdout. Needs root and
// mmdebstrap when it has to build.
package main

import (
	"fmt"
	"os"

	"github.com/hardbake/hardbake/internal/testroot"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: roottar SUITE   (bookworm or trixie)")
		os.Exit(2)
	}
	p, err := testroot.Build(os.Args[1], func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(p)
}

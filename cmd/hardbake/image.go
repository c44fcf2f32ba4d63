package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/images/diskimage"
)

// imageSteps are the steps `audit --image` judges when --only names none:
// the checklist's, whose checks read files only. The CIS steps (kernel
// through audit) compare owners a read-only image does not map and run the
// image's own tools (systemd-sysctl, auditctl, pam-auth-update).
var imageSteps = []string{"ssh", "updates", "services", "fail2ban", "firewall", "firstboot"}

// openImage opens --image read-only for `audit --image`; f.img keeps it
// for closeImage.
func openImage(f *stepFlags) (*root.Root, error) {
	if f.root != "/" {
		return nil, fmt.Errorf("%w: --root and --image exclude each other", bootstrap.ErrInvalid)
	}
	img, err := diskimage.Open(f.image, f.partition)
	if err != nil {
		return nil, err
	}
	f.img = img
	return img.Root, nil
}

// closeImage closes the image and turns read faults met during the audit
// into bad input (exit 2): a check may have taken an unreadable file for a
// missing one, so the report cannot be trusted.
func closeImage(f *stepFlags) error {
	if f.img == nil {
		return nil
	}
	defer f.img.Close()
	faults := f.img.Faults()
	if len(faults) == 0 {
		return nil
	}
	var msgs []string
	for _, e := range faults {
		msgs = append(msgs, e.Error())
	}
	return fmt.Errorf("%w: %s: the audit is incomplete: %s", errors.Join(bootstrap.ErrInvalid, diskimage.ErrRead), f.img.Where(), strings.Join(msgs, "; "))
}

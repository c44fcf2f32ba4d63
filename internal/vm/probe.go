package vm

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// Banner connects to 127.0.0.1:port (a host forward into the guest), sends
// send when not empty and returns what the server says first within wait:
// an SSH server's version line, an HTTP server's response, or nothing when
// a firewall drops the connection inside the guest (QEMU's user network
// accepts it on the host side either way).
func Banner(port int, send string, wait time.Duration) (string, error) {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), wait)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(wait))
	if send != "" {
		if _, err := c.Write([]byte(send)); err != nil {
			return "", err
		}
	}
	buf := make([]byte, 256)
	n, err := c.Read(buf)
	return string(buf[:n]), err
}

// Upload writes data to path in the guest (cat over the SSH session of the
// last WaitSSH, then chmod), as the logged-in user.
func (v *VM) Upload(path string, data []byte, mode os.FileMode) error {
	c := v.Client()
	if c == nil {
		return errors.New("vm: Upload before WaitSSH")
	}
	s, err := c.NewSession()
	if err != nil {
		return err
	}
	defer s.Close()
	s.Stdin = bytes.NewReader(data)
	if out, err := s.CombinedOutput(fmt.Sprintf("cat > '%s' && chmod %o '%s'", path, mode, path)); err != nil {
		return fmt.Errorf("vm: upload %s: %v: %s", path, err, out)
	}
	return nil
}

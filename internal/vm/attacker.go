package vm

import "fmt"

// A second user-mode NIC for attacks (fail2ban tests). In QEMU's user
// network every connection from the host reaches the guest from 10.0.2.2,
// the test's own SSH session included, so banning "the attacker" on the
// first NIC would cut the session that checks the ban. Connections through
// this NIC come from AttackerAddr instead.
const (
	// AttackerAddr is where connections through the attacker NIC come from.
	AttackerAddr = "10.0.3.2"
	// AttackerGuestAddr is the guest's address on that network: the NIC has
	// no DHCP configuration in the guest, ConfigureAttackerNIC sets it.
	AttackerGuestAddr = "10.0.3.15"
	// ConfigureAttackerNIC is the guest command (run as root, e.g. with
	// sudo -n) that brings the second NIC (eth1 with DefaultAppend's
	// net.ifnames=0) up with AttackerGuestAddr.
	ConfigureAttackerNIC = "ip addr replace " + AttackerGuestAddr + "/24 dev eth1 && ip link set eth1 up"
)

// AttackerNICArgs are the QEMU arguments (for Options.ExtraArgs) of the
// attacker NIC, whose host port hostPort on 127.0.0.1 forwards to the
// guest's port 22 on AttackerGuestAddr.
func AttackerNICArgs(hostPort int) []string {
	return []string{
		"-netdev", fmt.Sprintf("user,id=attacker,net=10.0.3.0/24,hostfwd=tcp:127.0.0.1:%d-%s:22", hostPort, AttackerGuestAddr),
		"-device", "virtio-net-pci,netdev=attacker",
	}
}

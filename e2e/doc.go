// Package e2e is hardbake's end-to-end suite: one real `packer build` of
// examples/packer/debian-12.pkr.hcl (scripts/pipeline.sh build), then the
// sealed image booted fresh in QEMU (TCG) with per-host data for alice, and
// the hardening attacked from the host with the real OpenSSH client.
//
// It runs when HARDBAKE_E2E=1 (`make e2e`, part of `make test`), on the
// suites in $HARDBAKE_E2E_SUITES (default "bookworm"), and ends with the
// line `e2e: N passed, M failed`. Each check is one subtest; see
// pipeline_test.go for the list and TestMain for the count. The sshd's
// crypto is judged from the host by ssh-audit and by Go's and OpenSSH's
// clients (crypto_test.go). HARDBAKE_E2E_LYNIS=1 (`make lynis`, not part of
// `make test`: minutes per audit under TCG) adds Lynis's hardening index of
// the hardened image and of the unhardened base image, booted a third time
// (lynis_test.go).
//
// Cost on a 2-core machine without KVM: one packer build and two boots of
// the built image per suite, each boot with -snapshot so the image stays
// as built. One booted VM serves every check that does not need a fresh
// boot. Then the power cut (powercut_test.go): a copy of the image is booted
// and killed (SIGKILL of QEMU) while hardbake-firstboot.service runs, then
// booted again and checked; a cut that came after first boot had finished is
// reported as such and an earlier one tried.
//
// BenchmarkBootToSudo (`make bench`) boots the base image with a cloud-init
// seed and the golden image with a hardbake seed, alternating, and reports
// power-on to alice's first `ssh ... sudo -n true` for each; its golden image
// is the one TestPipeline filed in the cache (golden_test.go).
//
// Networking: QEMU user networking, two NICs. Every connection through a
// NIC's host forward reaches the guest from that network's host address, so
// the test's own SSH session uses the first NIC (10.0.2.2) and the fail2ban
// attacker the second (10.0.3.2): banning the attacker does not cut the
// session that checks the ban.
package e2e

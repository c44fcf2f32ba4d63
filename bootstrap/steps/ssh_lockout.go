package steps

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/sshdconfig"
)

// lockoutGuard refuses, on a live system, a configuration that would leave
// the admin with only the console: passwords turned off, or an AllowGroups
// list written, while no account that may log in afterwards has a usable
// authorized key; and an AllowGroups list that leaves out the user running
// hardbake through sudo (Packer's build user, whose next connection would
// be refused mid-build).
func lockoutGuard(env *Env, groups loginGroups) error {
	eff, err := sshdconfig.Load(env.Root, SSHDConfig)
	if err != nil {
		return err
	}
	k := bakedKeyAuth(env, eff)
	passwordsOff := false
	if v, ok := eff.Get("passwordauthentication"); ok && len(v.Args) > 0 && strings.EqualFold(v.Args[0], "no") {
		passwordsOff = true
	}
	if passwordsOff && slices.Equal(k.AllowGroups, groups.Groups) {
		return nil // nothing new to lose
	}
	k.AllowGroups = groups.Groups
	if u := os.Getenv("SUDO_USER"); u != "" && u != "root" && k.AllowGroups != nil {
		passwd, _ := env.Root.ReadFile("/etc/passwd")
		group, _ := env.Root.ReadFile("/etc/group")
		if a, ok := distro.LookupUser(string(passwd), u); ok && !inAllowedGroup(a, distro.ParseGroup(string(group)), k.AllowGroups) {
			return fmt.Errorf("%w: AllowGroups %s would refuse %s, who runs hardbake through sudo (a build user's next "+
				"connection would fail): add one of %s's groups to ssh.allow_groups, name the build user in "+
				"seal.remove_user, or rerun with --force", bootstrap.ErrLockout, strings.Join(k.AllowGroups, " "), u, u)
		}
	}
	if env.Profile.SSH.PasswordAuthentication {
		return nil // passwords stay on: the groups' members keep them
	}
	way, ok, err := FindKeyLogin(env.Root, k)
	if err != nil {
		return err
	}
	if ok {
		env.logf("  lockout guard: a way in: %s", way)
		return nil
	}
	who := "no account that may log in"
	if strings.EqualFold(k.PermitRootLogin, "no") {
		who += " (root excluded by permit_root_login: no)"
	}
	if k.AllowGroups != nil {
		who += " in AllowGroups " + strings.Join(k.AllowGroups, " ")
	}
	return fmt.Errorf("%w: the new sshd settings would leave no way in: %s has a usable key in its "+
		"authorized_keys. Add a key for an admin user first (ssh-copy-id), add its group to ssh.allow_groups, or rerun "+
		"with --force if you have console access", bootstrap.ErrLockout, who)
}

// BakedKeyLogin is FindKeyLogin for the root as the bake leaves it: the
// root's own AuthorizedKeysFile and AuthorizedKeysCommand (the bake keeps
// them), and the profile's permit_root_login (the bake sets it). First boot
// asks the same question of the baked image.
func BakedKeyLogin(env *Env) (KeyLogin, bool, error) {
	eff, err := sshdconfig.Load(env.Root, SSHDConfig)
	if err != nil {
		return KeyLogin{}, false, err
	}
	return FindKeyLogin(env.Root, bakedKeyAuth(env, eff))
}

// bakedKeyAuth is eff's key-login settings with the profile's
// permit_root_login, which the bake writes.
func bakedKeyAuth(env *Env, eff *sshdconfig.Effective) KeyAuth {
	k := KeyAuthOf(eff)
	k.PermitRootLogin = env.Profile.SSH.PermitRootLogin
	return k
}

package steps

import (
	"fmt"
	"strings"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/sshdconfig"
)

// lockoutGuard refuses to turn password login off on a live system when no
// account that may log in has a usable authorized key: that would leave the
// admin with only the console.
func lockoutGuard(env *Env) error {
	eff, err := sshdconfig.Load(env.Root, SSHDConfig)
	if err != nil {
		return err
	}
	if v, ok := eff.Get("passwordauthentication"); ok && len(v.Args) > 0 && strings.EqualFold(v.Args[0], "no") {
		return nil // passwords are already off: nothing new to lose
	}
	k := bakedKeyAuth(env, eff)
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
	return fmt.Errorf("%w: turning SSH password login off would leave no way in: %s has a usable key in its "+
		"authorized_keys. Add a key for an admin user first (ssh-copy-id), or rerun with --force if you have console "+
		"access", bootstrap.ErrLockout, who)
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

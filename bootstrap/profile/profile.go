// Package profile is hardbake's configuration: what to harden and how. It is
// YAML (gopkg.in/yaml.v3), strict (unknown keys are errors), and validated in
// one pass that reports every problem with its field path and line.
package profile

import (
	_ "embed"
	"reflect"
)

// DefaultYAML is the commented default profile that `hardbake profile` prints.
// Default() is decoded from it (at `go test -update`, see Default), so the
// documentation cannot drift from the code.
//
//go:embed default.yaml
var DefaultYAML string

// Profile is the whole configuration.
type Profile struct {
	Skip     []string `yaml:"skip"`
	SSH      SSH      `yaml:"ssh"`
	Updates  Updates  `yaml:"updates"`
	Services Services `yaml:"services"`
	Fail2ban Fail2ban `yaml:"fail2ban"`
	Firewall Firewall `yaml:"firewall"`
	Seal     Seal     `yaml:"seal"`
}

// SSH configures the sshd step.
type SSH struct {
	PermitRootLogin        string `yaml:"permit_root_login"`
	PasswordAuthentication bool   `yaml:"password_authentication"`
	AddressFamily          string `yaml:"address_family"`
	Ports                  []int  `yaml:"ports"`
	MaxAuthTries           int    `yaml:"max_auth_tries"`
	LoginGraceTime         int    `yaml:"login_grace_time"`
	X11Forwarding          bool   `yaml:"x11_forwarding"`
	// HostKeyTypes are the host keys firstboot makes when missing, in order.
	HostKeyTypes []string `yaml:"host_key_types"`
	// Crypto picks KexAlgorithms, Ciphers, MACs and HostKeyAlgorithms for
	// the target's OpenSSH version: modern, compatible or off.
	Crypto string `yaml:"crypto"`
	// CryptoRequire are algorithms clients need that stay offered whatever
	// Crypto chooses.
	CryptoRequire []string `yaml:"crypto_require"`
}

// AddressFamilies are the values sshd's AddressFamily accepts.
var AddressFamilies = []string{"any", "inet", "inet6"}

// HostKeyTypes are the values ssh.host_key_types accepts (ssh-keygen -t).
var HostKeyTypes = []string{"ed25519", "ecdsa", "rsa"}

// Default returns the default profile, a deep copy of its own: DefaultYAML
// as compiled in (default_gen.go, checked against DefaultYAML by
// TestBuiltinDefaultIsDefaultYAML), so no process parses it to start.
func Default() *Profile { return builtinDefault.Clone() }

// Clone returns a deep copy of p: no slice, map or pointer is shared.
func (p *Profile) Clone() *Profile {
	c := new(Profile)
	deepCopy(reflect.ValueOf(c).Elem(), reflect.ValueOf(p).Elem())
	return c
}

// deepCopy copies src into dst (settable, same type), allocating new
// slices, maps and pointees.
func deepCopy(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Struct:
		for i := range src.NumField() {
			deepCopy(dst.Field(i), src.Field(i))
		}
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.MakeSlice(src.Type(), src.Len(), src.Len()))
		for i := range src.Len() {
			deepCopy(dst.Index(i), src.Index(i))
		}
	case reflect.Map:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.MakeMapWithSize(src.Type(), src.Len()))
		for it := src.MapRange(); it.Next(); {
			v := reflect.New(src.Type().Elem()).Elem()
			deepCopy(v, it.Value())
			dst.SetMapIndex(it.Key(), v)
		}
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.New(src.Type().Elem()))
		deepCopy(dst.Elem(), src.Elem())
	default:
		dst.Set(src)
	}
}

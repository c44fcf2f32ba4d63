module github.com/hardbake/hardbake

go 1.26.0

require (
	golang.org/x/crypto v0.59.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)

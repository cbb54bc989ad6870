// Command axes inspects and resets the lockouts that axes keeps in a store:
// the counterpart of django-axes' manage.py axes_* commands.
//
//	axes --store sqlite:/var/lib/app/axes.db list
//	axes reset-ip 203.0.113.7
//	AXES_STORE=redis://127.0.0.1:6379/0 axes reset-username alice
//
// Run "axes help" for every command. Install it with
//
//	go install github.com/goaxes/axes/cmd/axes@latest
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

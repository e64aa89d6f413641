// Command guestcmd is the helper the real-kernel test guest runs (as
// /bin/klpc-guest) for the steps whose errors matter: it makes exactly one
// system call per step and reports a failure with the error's name, which
// busybox's tools do not (and busybox's insmod retries a failed finit_module
// with init_module, running the module's init a second time).
//
//	klpc-guest insmod FILE [PARAMS] finit_module(FILE, PARAMS), such as "pre_patch_ret=-19"
//	klpc-guest rmmod NAME           delete_module(NAME, O_NONBLOCK)
//	klpc-guest write FILE VALUE     write VALUE to FILE (a sysfs attribute)
//
// A failure prints "<command>: <operand>: <message> (<ERRNO>)" to standard
// error and exits with status 1; bad usage exits with status 2.
package main

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 3 {
		usage()
	}
	var err error
	switch cmd, arg := os.Args[1], os.Args[2]; {
	case cmd == "insmod" && len(os.Args) == 3:
		err = insmod(arg, "")
	case cmd == "insmod" && len(os.Args) == 4:
		err = insmod(arg, os.Args[3])
	case cmd == "rmmod" && len(os.Args) == 3:
		err = unix.DeleteModule(arg, unix.O_NONBLOCK)
	case cmd == "write" && len(os.Args) == 4:
		err = write(arg, os.Args[3])
	default:
		usage()
	}
	if err != nil {
		name := "EUNKNOWN"
		var errno unix.Errno
		if errors.As(err, &errno) {
			if n := unix.ErrnoName(errno); n != "" {
				name = n
			}
		}
		fmt.Fprintf(os.Stderr, "%s: %s: %v (%s)\n", os.Args[1], os.Args[2], err, name)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: klpc-guest insmod FILE [PARAMS] | rmmod NAME | write FILE VALUE")
	os.Exit(2)
}

// insmod loads the module in file with a single finit_module call, passing
// params (space-separated name=value pairs) as module parameters.
func insmod(file, params string) error {
	f, err := os.Open(file)
	if err != nil {
		return underlying(err)
	}
	defer f.Close()
	return unix.FinitModule(int(f.Fd()), params, 0)
}

// write writes value to file in a single write call, as `echo value > file`
// does, and returns the error of the open, the write or the close.
func write(file, value string) error {
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		return underlying(err)
	}
	if _, err := f.Write([]byte(value)); err != nil {
		f.Close()
		return underlying(err)
	}
	return underlying(f.Close())
}

// underlying strips the path wrapper from a file error, leaving the errno.
func underlying(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

//go:build !(linux && amd64)

package safeio

func openStatDir(string) (int, error) { return -1, nil }

func closeStatDir(int) error { return nil }

func statAt(int, string, string) (Info, error) { panic("unreachable: no folder descriptor") }

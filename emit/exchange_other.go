//go:build !linux

package emit

func exchange(a, b string) error { return exchangeByRenames(a, b) }

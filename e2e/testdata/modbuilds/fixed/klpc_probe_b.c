/*
 * The "fixed" build of klpc_probe: e2e/probe/klpc_probe.c with this text
 * appended (buildFixedProbe in e2e/modbuilds_test.go), as a module fixed
 * and put on disk would carry a new helper. klpc_probe_b() is static and
 * not exported: a livepatch reaches it only through a .klp.sym relocation
 * that klp_resolve_symbols looks up in the loaded module's own symbol
 * table, so the livepatch works on this build and the kernel refuses it
 * (EINVAL) on the kernel's own build, which lacks the function.
 */
static unsigned long klpc_probe_b_calls;

static noinline __used const char *klpc_probe_b(void)
{
	WRITE_ONCE(klpc_probe_b_calls, READ_ONCE(klpc_probe_b_calls) + 1);
	return "fixed";
}

package plan

// ModuleBuild is what one release does on another build of a module it
// patches (a kernel block's module_build): the same functions and symbols,
// resolved against that build's own symbol table, as klp_find_object_symbol
// would find them if that build were the one loaded.
type ModuleBuild struct {
	// Name is the module_build's name; Module the module it is a build of.
	Name   string
	Module string
	// ID identifies the build: "srcversion:<srcversion>" from its
	// .modinfo, or "sha256:<digest of the file>" when it has none.
	ID      string
	Funcs   []*ModuleBuildFunc
	Symbols []*ModuleBuildSymbol
}

// ModuleBuildFunc is one patched function of the release on the build.
type ModuleBuildFunc struct {
	// Key is the function's key on the kernel's own build.
	Key  string
	Name string
	// Sympos is what the release's sympos finds in this build (the
	// kernel's own resolution applied to the build's symbols); 0 when
	// Problem is set.
	Sympos int
	// Problem says why the kernel would refuse the function on this build
	// ("" when it resolves): not found, ambiguous, sympos out of range, not
	// traceable.
	Problem string
}

// ModuleBuildSymbol is one symbol a fix's replacement uses from the module.
type ModuleBuildSymbol struct {
	Name    string
	Sympos  int
	Problem string
}

package diag

// Code names a kind of diagnostic. Codes are stable: tests, fixtures and
// tools match on them, never on the prose, and a code is never reused for
// another kind.
type Code string

// Reading the configuration (lang).
const (
	ConfigUnreadable     Code = "config-unreadable"       // a configuration folder or file cannot be read
	NoConfigFiles        Code = "no-config-files"         // the folder holds no *.klp.hcl file
	Syntax               Code = "syntax"                  // HCL syntax
	NotText              Code = "not-text"                // a configuration file with NUL bytes or invalid UTF-8
	MoreSyntaxErrors     Code = "more-syntax-errors"      // the count of a file's syntax errors left unreported
	UnsupportedArgument  Code = "unsupported-argument"    // an attribute the block does not take
	UnsupportedBlock     Code = "unsupported-block"       // a block type the file or block does not take
	MissingArgument      Code = "missing-argument"        // a required attribute is missing
	DuplicateArgument    Code = "duplicate-argument"      // an attribute given twice
	UnexpectedArgument   Code = "unexpected-argument"     // an attribute that does not fit the step's action
	InvalidExpression    Code = "invalid-expression"      // an expression klpc cannot evaluate
	TypeMismatch         Code = "type-mismatch"           // a value of the wrong type
	InvalidName          Code = "invalid-name"            // a block label klpc does not accept as a name
	InvalidModuleName    Code = "invalid-module-name"     // a module name the kernel or kbuild refuses
	InvalidObjectName    Code = "invalid-object-name"     // an object name the kernel would never find
	InvalidSymbolName    Code = "invalid-symbol-name"     // a function or symbol name that is no kernel symbol name
	InvalidCName         Code = "invalid-c-name"          // a replacement or callback that is no C identifier
	InvalidRelease       Code = "invalid-release"         // a kernel release that is empty or not a uname -r
	UnsupportedArch      Code = "unsupported-arch"        // an architecture klpc does not model
	EmptyPath            Code = "empty-path"              // a path attribute that is empty
	InvalidPath          Code = "invalid-path"            // a path with control characters, or one make cannot hold
	FileOutsideConfig    Code = "file-outside-config"     // a fix source or patch resolving outside the configuration folder
	InputUnreadable      Code = "input-unreadable"        // a fix source or patch, or a headers folder, missing or unusable
	HeadersMismatch      Code = "headers-mismatch"        // a headers folder of another kernel release
	NestingTooDeep       Code = "nesting-too-deep"        // an expression nested deeper than klpc reads
	InvalidReference     Code = "invalid-reference"       // an expression that is not a reference to a block
	UndeclaredReference  Code = "undeclared-reference"    // a reference to a block that is not declared
	DuplicateReference   Code = "duplicate-reference"     // one block named twice in one list
	DuplicateDeclaration Code = "duplicate-declaration"   // two blocks of one type with one name
	DuplicateObject      Code = "duplicate-object"        // one object twice in a fix
	DuplicateModuleBuild Code = "duplicate-module-build"  // two module_build blocks of one name in a kernel
	DuplicateFunction    Code = "duplicate-function"      // one function twice in an object
	DuplicateSymbol      Code = "duplicate-symbol"        // one symbol twice in an object
	DuplicateStateID     Code = "duplicate-state-id"      // one state id twice in a fix
	ModuleNameCollision  Code = "module-name-collision"   // two releases whose module names are the same
	FixChangesNothing    Code = "fix-changes-nothing"     // a fix without objects or states
	EmptyObject          Code = "empty-object"            // an object without functions
	NoFixes              Code = "no-fixes"                // a release without fixes
	NoKernels            Code = "no-kernels"              // a release without kernels
	InvalidLayout        Code = "invalid-layout"          // a layout that is not combined or per-object
	InvalidExpect        Code = "invalid-expect"          // an expect that is not ok or refused
	InvalidNumber        Code = "invalid-number"          // a sympos, state id or version out of the kernel's range
	UnknownAction        Code = "unknown-action"          // a step action klpc does not know
	ConflictingSelectors Code = "conflicting-selectors"   // sympos and file both given
	EmptyFileSelector    Code = "empty-file-selector"     // file = ""
	FixCarriedAndDropped Code = "fix-carried-and-dropped" // a fix in both fixes and drops
)

// Resolving releases against kernel builds (plan/resolve).
const (
	UnknownLine           Code = "unknown-line"             // a kernel block names a line klpc does not model
	LineNotVerified       Code = "line-not-verified"        // a release of a version no modelled line was verified on
	NoSuchDeployment      Code = "no-such-deployment"       // --deploy names no deploy block
	KernelUnreadable      Code = "kernel-unreadable"        // a kernel build's files cannot be read
	KernelWithoutSymbols  Code = "kernel-without-symbols"   // a kernel block names no symbol files
	NoVmlinuxSymbols      Code = "no-vmlinux-symbols"       // a kernel block names only modules
	ObjectNotInKernel     Code = "object-not-in-kernel"     // a release patches a module the build lacks
	ModuleDamaged         Code = "module-damaged"           // a release patches a module whose file cannot be read
	ModuleNotInKernel     Code = "module-not-in-kernel"     // a deployment loads a module the build lacks
	SymbolNotFound        Code = "symbol-not-found"         // klp_find_object_symbol finds nothing
	SymbolAmbiguous       Code = "symbol-ambiguous"         // sympos 0 with several candidates
	SymposNotFound        Code = "sympos-not-found"         // no candidate at that sympos
	NotAFunction          Code = "not-a-function"           // the symbol is data
	NotTraceable          Code = "not-traceable"            // no ftrace call site: notrace or inlined
	FileSelectFailed      Code = "file-select-failed"       // file = does not select one symbol
	SymbolExported        Code = "symbol-exported"          // a symbol block for an exported symbol
	ConflictingCallbacks  Code = "conflicting-callbacks"    // two fixes set callbacks of one object
	DuplicateSysfsName    Code = "duplicate-sysfs-name"     // two klp_funcs whose sysfs names collide
	InitFunction          Code = "init-function"            // a patch on a module's __init function
	LivepatchModuleObject Code = "livepatch-module-object"  // a fix patches another release's livepatch module
	FunctionPatchedTwice  Code = "function-patched-twice"   // two replacements of one function in a release
	StateDeclaredTwice    Code = "state-declared-twice"     // two fixes of a release declare one state id
	PerObjectReplace      Code = "per-object-replace"       // per-object modules that would each replace
	PerObjectNameTooLong  Code = "per-object-name-too-long" // a per-object module name over MODULE_NAME_LEN
	NotBuiltForKernel     Code = "not-built-for-kernel"     // a step loads a release not built for the kernel
	UnexportedSymbolUsed  Code = "unexported-symbol-used"   // a fix source uses a kernel symbol that is not exported, without a symbol block
)

// Checks over the simulation (plan/check).
const (
	StepRefused       Code = "step-refused"        // the kernel refuses a step expected to succeed
	StepNotRefused    Code = "step-not-refused"    // the kernel accepts a step expected to be refused
	StateIncompatible Code = "state-incompatible"  // klp_is_patch_compatible refuses a load
	ReplaceDropsFix   Code = "replace-drops-fix"   // a replace release takes a fixed function back to the original
	StackedNonReplace Code = "stacked-non-replace" // several non-replace releases patch one function
	RelocationsOnce   Code = "relocations-once"    // module klp relocations that 6.1 never clears
	UnsafeUpgrade     Code = "unsafe-upgrade"      // a per-object upgrade the model does not verify
)

// Writing build inputs (emit).
const (
	PlanHasErrors       Code = "plan-has-errors"       // emit refuses a plan with errors
	OutputInvalid       Code = "output-invalid"        // no, or an unusable, output folder
	OutputExists        Code = "output-exists"         // the output folder exists and --force is not given
	OutputHoldsInput    Code = "output-holds-input"    // the output folder would replace an input
	OutputUnwritable    Code = "output-unwritable"     // writing the output failed
	EmitInputUnreadable Code = "emit-input-unreadable" // a fix's source or patch cannot be read
	SourceNotC          Code = "source-not-c"          // a fix's source is not a .c file
	InvalidEmitName     Code = "invalid-emit-name"     // a name emit cannot write into C, make or shell
	EmitConflict        Code = "emit-conflict"         // two outputs at one path or in one folder
	MissingBuildInput   Code = "missing-build-input"   // a build needs a file that was not emitted
	PlanInconsistent    Code = "plan-inconsistent"     // the plan names a fix or kernel it does not hold
	UnverifiedUpgrade   Code = "unverified-upgrade"    // emit refuses an unverified upgrade script
	EncodeFailed        Code = "encode-failed"         // encoding an output failed
	KlpBuildRefuses     Code = "klp-build-refuses"     // a patch klp-build refuses (lib/, vdso, realmode/rm, .S)
	KlpBuildStates      Code = "klp-build-states"      // a release with klp_state, which klp-build cannot carry
)

// Starting a deployment from a host snapshot (deploy's from).
const (
	SnapshotUnreadable  Code = "snapshot-unreadable"   // the snapshot file cannot be read or is not a valid snapshot
	SnapshotKernel      Code = "snapshot-kernel"       // the snapshot was taken on another kernel release
	SnapshotNoRelease   Code = "snapshot-no-release"   // a loaded livepatch module matches no release of the configuration
	SnapshotUnreachable Code = "snapshot-unreachable"  // the model cannot reach the state the snapshot shows
	SnapshotModuleBuild Code = "snapshot-module-build" // a module the snapshot shows has a srcversion no build of the kernel has
)

// Builds of a module other than the kernel's own (module_build).
const (
	ModuleBuildUnreadable Code = "module-build-unreadable" // a module_build's .ko cannot be read, or is another module
	ModuleBuildDiffers    Code = "module-build-differs"    // a release's function or symbol resolves otherwise, or not at all, in a module build
	UnknownModuleBuild    Code = "unknown-module-build"    // a module_load step's build names no module_build of that module
	ModuleBuildsConflict  Code = "module-builds-conflict"  // a livepatch's module_builds name two builds of one module
)

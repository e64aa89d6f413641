package emit

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/klpc/klpc/diag"
)

// klpBuildLine is the kernel line whose sources carry upstream klp-build
// (scripts/livepatch/klp-build, merged for 7.0): klp-build inputs are
// emitted for kernels modelled by it.
const klpBuildLine = "7.x"

// klpBuild emits the inputs of upstream klp-build for a module of a 7.x
// kernel: the fixes' patches, numbered in release order, and klp-build.sh,
// which runs `scripts/livepatch/klp-build [options] PATCH_FILE(s)` at the
// root of the kernel's configured source tree with -o, -j and, for a
// non-replace release, --no-replace. It returns nil for kernels of other
// lines. kb and kp are the module's other builds: a restriction of
// klp-build is a warning while one of them builds the module, an error
// when none does.
func (g *generator) klpBuild(job *moduleJob, kb, kp buildPart) *buildPart {
	k := job.kernel
	if k.Line.Name != klpBuildLine {
		return nil
	}
	part := &buildPart{Files: []string{}, Notes: []string{}}
	if part.Skipped = patchBuilderSkip(job); part.Skipped != "" {
		return part
	}
	mod := job.module.Name
	others := "the Kbuild output builds it from the fixes' sources"
	if !kb.Enabled {
		others = "the kpatch-build inputs build it"
	}
	report := func(subject *diag.Range, summary, format string, args ...any) {
		if kb.Enabled || kp.Enabled {
			g.diags = append(g.diags, diag.Warnf(diag.KlpBuildRefuses, subject, summary, format+" No klp-build.sh is emitted for module %s on kernel %q; "+others+".", append(args, mod, k.Name)...))
			return
		}
		g.diags = append(g.diags, diag.Errorf(diag.KlpBuildRefuses, subject, summary, format+" Module %s on kernel %q has no other build: give the kernel a headers folder for the Kbuild output.", append(args, mod, k.Name)...))
	}

	_, patches := g.copyNames(job)
	var args []string
	refused := false
	for _, f := range job.fixes {
		data, ok := g.readFix(f, "patch", f.Patch)
		if !ok {
			return part
		}
		for _, u := range klpBuildUnsupported(f.Patch, data) {
			refused = true
			report(u.rng.Ptr(), "Patch refused by klp-build",
				"The patch of fix %q changes %s. klp-build (check_unsupported_patches in scripts/livepatch/klp-build, 7.x) refuses patches to lib/, vdso, realmode/rm and assembly (.S) files.", f.Name, u.file)
		}
		// The patches are the kpatch-build ones: copied once, shared.
		if !kp.Enabled {
			g.add(job.dir+"/"+patches[f.Name], data, 0o644)
		}
		part.Files = append(part.Files, patches[f.Name])
		args = append(args, patches[f.Name])
	}
	if len(job.module.States) > 0 {
		var ids []string
		for _, s := range job.module.States {
			ids = append(ids, fmt.Sprintf("%d (version %d)", s.ID, s.Version))
		}
		refused = true
		if kb.Enabled {
			g.diags = append(g.diags, diag.Warnf(diag.KlpBuildStates, job.lp.FixesRange.Ptr(), "klp-build cannot carry klp_state",
				"The livepatch %q carries state %s, which the plan was verified with. klp-build has no klp_state support (scripts/livepatch/init.c: \"TODO patch->states\", 7.x), so a module it built would carry none and change what klp_is_patch_compatible decides. No klp-build.sh is emitted for module %s on kernel %q; the Kbuild output carries the states.",
				job.lp.Name, strings.Join(ids, ", "), mod, k.Name))
		} else {
			g.diags = append(g.diags, diag.Errorf(diag.KlpBuildStates, job.lp.FixesRange.Ptr(), "klp-build cannot carry klp_state",
				"The livepatch %q carries state %s, which the plan was verified with. klp-build has no klp_state support (scripts/livepatch/init.c: \"TODO patch->states\", 7.x), and neither has kpatch-build, so no build of module %s on kernel %q carries the states: give the kernel a headers folder for the Kbuild output, which does.",
				job.lp.Name, strings.Join(ids, ", "), mod, k.Name))
		}
	}
	if refused {
		part.Files = []string{}
		part.Skipped = "klp-build refuses the release (see the diagnostics)"
		return part
	}

	opts := []string{`-o "$out/` + mod + `.ko"`, `-j "$jobs"`}
	if !job.module.Replace {
		opts = append(opts, "--no-replace")
	}
	var notes []string
	src := "${KLP_BUILD_SRC:?set KLP_BUILD_SRC to the configured source tree of the kernel}"
	if k.Source != "" {
		src = "${KLP_BUILD_SRC:-" + shellQuote(k.Source) + "}"
	} else {
		notes = append(notes, fmt.Sprintf("The kernel %q names no source folder: set KLP_BUILD_SRC to a full source tree of %s configured with its .config.", k.Name, k.Release))
	}
	notes = append(notes, "klp-build runs at the root of a configured full source tree (CONFIG_LIVEPATCH and CONFIG_KLP_BUILD; no GCC_PLUGIN_RANDSTRUCT, GCC_PLUGIN_LATENT_ENTROPY or LD_DEAD_CODE_DATA_ELIMINATION), with bash 4.4 or later, patchutils and an objtool built with libxxhash; it builds the original and the patched kernel.")
	for _, o := range job.module.Objects {
		if len(callbackList(o.Callbacks)) > 0 {
			notes = append(notes, "klp-build takes callbacks from the patch itself (KLP_PRE_PATCH_CALLBACK() and the like), not from the plan: the patches must declare those of object "+o.Name+".")
		}
	}
	if len(job.build.Modules) > 1 {
		notes = append(notes, "klp-build makes one module of everything the patches change: a patch that also changes objects other than "+job.module.Objects[0].Name+" puts them in this module too.")
	}
	notes = append(notes, "klp-build finds the changed functions and their sympos itself; the plan's are in manifest.json.")

	title := fmt.Sprintf("Builds %s.ko with upstream klp-build (scripts/livepatch/klp-build) from\n# the fixes' patches, for livepatch %q on kernel %s.", mod, job.lp.Name, kernelText(k))
	preamble := fmt.Sprintf("# The source tree is $KLP_BUILD_SRC%s; $KLP_BUILD_JOBS build jobs\n# run at once (default: every processor). Extra klp-build options (-v, -T,\n# ...) may be given as arguments. The module is written to $KLP_BUILD_OUTPUT,\n# klp-build/ beside this script by default.\nset -eu\nhere=$(cd \"$(dirname \"$0\")\" && pwd)\nout=${KLP_BUILD_OUTPUT:-$here/klp-build}\nsrc=%s\njobs=${KLP_BUILD_JOBS:-$(getconf _NPROCESSORS_ONLN)}\nmkdir -p \"$out\"\ncd \"$src\"\nexec ./scripts/livepatch/klp-build \\\n",
		map[bool]string{true: ", " + k.Source + " by default", false: ""}[k.Source != ""], src)
	g.addBuildScript(job, part, "klp-build.sh", buildScript(title, notes, preamble, opts, args, `"$here"/`), "klp-build/"+mod+".ko", notes)
	return part
}

// unsupportedFile is a file a patch changes that klp-build refuses.
type unsupportedFile struct {
	file string
	rng  diag.Range
}

// klpBuildUnsupported mirrors klp-build's check_unsupported_patches and
// get_patch_files (scripts/livepatch/klp-build, 7.x): the files a patch
// names are the second field of its "--- " and "+++ " lines, except lines
// with /dev/null or an epoch date, with the first path component removed;
// lib/*, */vdso/*, */realmode/rm/* and *.S are refused. Each refused file
// is returned once, at the first line naming it.
func klpBuildUnsupported(path string, data []byte) []unsupportedFile {
	var out []unsupportedFile
	seen := map[string]bool{}
	offset := 0
	for i, raw := range bytes.Split(data, []byte("\n")) {
		line := string(raw)
		start := offset
		offset += len(raw) + 1
		if !strings.HasPrefix(line, "--- ") && !strings.HasPrefix(line, "+++ ") {
			continue
		}
		if strings.Contains(line, "/dev/null") || strings.Contains(line, "1969-12-31") || strings.Contains(line, "1970-01-01") {
			continue
		}
		// gawk '{print $2}': fields split at blanks.
		fields := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' })
		if len(fields) < 2 {
			continue
		}
		col := strings.Index(line[3:], fields[1]) + 3
		file := fields[1]
		if j := strings.IndexByte(file, '/'); j >= 0 {
			file = file[j+1:] // sed 's|^[^/]*/||'
		}
		if seen[file] || !klpBuildRefusesFile(file) {
			continue
		}
		seen[file] = true
		out = append(out, unsupportedFile{file: file, rng: diag.Range{
			Filename: path,
			Start:    diag.Pos{Line: i + 1, Column: col + 1, Byte: start + col},
			End:      diag.Pos{Line: i + 1, Column: col + 1 + len(fields[1]), Byte: start + col + len(fields[1])},
		}})
	}
	return out
}

// klpBuildRefusesFile is the case pattern of check_unsupported_patches:
// lib/*|*/vdso/*|*/realmode/rm/*|*.S (a bash pattern: * matches '/').
func klpBuildRefusesFile(file string) bool {
	return strings.HasPrefix(file, "lib/") || strings.Contains(file, "/vdso/") ||
		strings.Contains(file, "/realmode/rm/") || strings.HasSuffix(file, ".S")
}

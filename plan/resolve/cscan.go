package resolve

// A deliberately simple scan of a fix's C source for the names its
// functions refer to, to tell a replacement that uses a kernel symbol the
// module loader cannot resolve (not exported) without a symbol block. It
// is no C parser: it never sees through macros and prefers missing a
// reference to inventing one.
//
//   - Comments, string and character literals and preprocessor lines are
//     skipped.
//   - At file scope, a name followed by a parameter list and a body is a
//     function the file defines; a declaration ending in ';' defines its
//     variables unless it starts with extern or is a prototype, which only
//     declare.
//   - Inside function bodies, every name is a reference except members
//     (after . or ->), struct/union/enum tags, the names of parameters
//     and locals (a name after a type name or '*', before = ; , [ or ),
//     or after ', *' before = or ;)
//     and C keywords.

// CScan is what ScanC finds in a C file.
type CScan struct {
	// Refs maps every name the functions refer to, to the line of its
	// first reference (from 1).
	Refs map[string]int
	// Defined holds the functions and variables the file defines.
	Defined map[string]bool
	// Declared holds the names declared at file scope without a
	// definition: extern variables and prototypes.
	Declared map[string]bool
}

type ctok struct {
	text  string
	ident bool
	line  int
}

var cKeywords = map[string]bool{}

func init() {
	for _, k := range []string{"auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
		"extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short", "signed",
		"sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while", "_Bool",
		"bool", "true", "false", "typeof", "__typeof__", "asm", "__asm__", "__attribute__", "_Static_assert", "NULL"} {
		cKeywords[k] = true
	}
}

// maxCTokens bounds the scan of one file.
const maxCTokens = 2_000_000

// ctokens splits C source into identifiers and punctuation, skipping
// comments, literals, numbers and preprocessor lines.
func ctokens(src []byte) []ctok {
	var out []ctok
	line := 1
	atLineStart := true
	for i := 0; i < len(src) && len(out) < maxCTokens; {
		c := src[i]
		switch {
		case c == '\n':
			line++
			atLineStart = true
			i++
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			i++
			continue
		case c == '#' && atLineStart:
			// A directive runs to the end of the line, with continuations.
			for i < len(src) && src[i] != '\n' {
				if src[i] == '\\' && i+1 < len(src) && src[i+1] == '\n' {
					line++
					i++
				}
				i++
			}
			continue
		}
		atLineStart = false
		switch {
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			i += 2
			for i < len(src) && !(src[i] == '*' && i+1 < len(src) && src[i+1] == '/') {
				if src[i] == '\n' {
					line++
				}
				i++
			}
			i += 2
		case c == '"' || c == '\'':
			i++
			for i < len(src) && src[i] != c && src[i] != '\n' {
				if src[i] == '\\' && i+1 < len(src) {
					i++
				}
				i++
			}
			i++
		case isIdentStart(c):
			j := i
			for j < len(src) && (isIdentStart(src[j]) || (src[j] >= '0' && src[j] <= '9')) {
				j++
			}
			out = append(out, ctok{text: string(src[i:j]), ident: true, line: line})
			i = j
		case c >= '0' && c <= '9':
			for i < len(src) && (isIdentStart(src[i]) || (src[i] >= '0' && src[i] <= '9') || src[i] == '.') {
				i++
			}
		case c == '-' && i+1 < len(src) && src[i+1] == '>':
			out = append(out, ctok{text: "->", line: line})
			i += 2
		default:
			out = append(out, ctok{text: string(c), line: line})
			i++
		}
	}
	return out
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// ScanC scans C source; see the comment at the top of this file.
func ScanC(src []byte) CScan {
	s := CScan{Refs: map[string]int{}, Defined: map[string]bool{}, Declared: map[string]bool{}}
	toks := ctokens(src)
	locals := map[string]bool{}
	refs := map[string]int{}
	// kinds is the stack of open braces: true for a function body (or a
	// block inside one).
	var kinds []bool
	inBody := func() bool { return len(kinds) > 0 && kinds[len(kinds)-1] }
	stmt := 0 // index of the first token of the current file-scope statement
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch t.text {
		case "{":
			body := inBody()
			if len(kinds) == 0 {
				if name, params, ok := funcHeader(toks[stmt:i]); ok {
					body = true
					s.Defined[name] = true
					for _, p := range params {
						locals[p] = true
					}
				}
			}
			kinds = append(kinds, body)
			continue
		case "}":
			if len(kinds) > 0 {
				kinds = kinds[:len(kinds)-1]
			}
			if len(kinds) == 0 {
				stmt = i + 1
			}
			continue
		case ";":
			if len(kinds) == 0 {
				fileScopeDecl(toks[stmt:i], &s)
				stmt = i + 1
			}
			continue
		}
		if !t.ident || !inBody() || cKeywords[t.text] {
			continue
		}
		var prev, next string
		if i > 0 {
			prev = toks[i-1].text
		}
		if i+1 < len(toks) {
			next = toks[i+1].text
		}
		switch {
		case prev == "." || prev == "->" || prev == "struct" || prev == "union" || prev == "enum" || prev == "goto":
			continue
		case next == ":" && (prev == ";" || prev == "{" || prev == "}"):
			continue // a label
		case isDeclarator(toks, i) && next != "(":
			locals[t.text] = true
			continue
		}
		if _, seen := refs[t.text]; !seen {
			refs[t.text] = t.line
		}
	}
	for name, line := range refs {
		if !locals[name] && !s.Defined[name] {
			s.Refs[name] = line
		}
	}
	return s
}

// isDeclarator reports whether the name at i stands where a declaration
// names a variable: after a type name (an identifier that is not a
// statement keyword) or a '*' that follows one, and before = ; , [ or ).
func isDeclarator(toks []ctok, i int) bool {
	if i+1 >= len(toks) {
		return false
	}
	switch toks[i+1].text {
	case "=", ";", ",", "[", ")":
	default:
		return false
	}
	j := i - 1
	for j >= 0 && toks[j].text == "*" {
		j--
	}
	if j >= 0 && j < i-1 && toks[j].text == "," && (toks[i+1].text == "=" || toks[i+1].text == ";") {
		return true // "int a = 0, *p = &a;"
	}
	if j < 0 || !toks[j].ident {
		return false
	}
	switch toks[j].text {
	case "return", "case", "goto", "sizeof", "else", "do", "typeof", "__typeof__":
		return false
	}
	return true
}

// funcHeader recognises "... name ( params )" before a '{' at file scope,
// returning the name and the parameter names.
func funcHeader(toks []ctok) (string, []string, bool) {
	if len(toks) < 3 || toks[len(toks)-1].text != ")" {
		return "", nil, false
	}
	// Find the '(' that matches the last ')'.
	depth := 0
	open := -1
	for j := len(toks) - 1; j >= 0; j-- {
		switch toks[j].text {
		case ")":
			depth++
		case "(":
			depth--
		}
		if depth == 0 {
			open = j
			break
		}
	}
	if open < 1 || !toks[open-1].ident || cKeywords[toks[open-1].text] {
		return "", nil, false
	}
	var params []string
	for j := open + 1; j < len(toks)-1; j++ {
		if toks[j].ident && (toks[j+1].text == "," || toks[j+1].text == ")" || toks[j+1].text == "[") && !cKeywords[toks[j].text] {
			params = append(params, toks[j].text)
		}
	}
	return toks[open-1].text, params, true
}

// fileScopeDecl records what a file-scope declaration (its tokens, without
// the ';') defines or declares.
func fileScopeDecl(toks []ctok, s *CScan) {
	if len(toks) == 0 || toks[0].text == "typedef" {
		return
	}
	extern := false
	for _, t := range toks {
		if t.text == "extern" {
			extern = true
		}
	}
	depth := 0
	skip := false // inside an initializer
	for j, t := range toks {
		switch t.text {
		case "(", "[", "{":
			depth++
			continue
		case ")", "]", "}":
			depth--
			continue
		case "=":
			if depth == 0 {
				skip = true
			}
			continue
		case ",":
			if depth == 0 {
				skip = false
			}
			continue
		}
		if skip || depth != 0 || !t.ident || cKeywords[t.text] {
			continue
		}
		next := ""
		if j+1 < len(toks) {
			next = toks[j+1].text
		}
		switch {
		case next == "(":
			s.Declared[t.text] = true // a prototype
		case next == "" || next == "=" || next == "," || next == "[":
			if extern {
				s.Declared[t.text] = true
			} else {
				s.Defined[t.text] = true
			}
		}
	}
}

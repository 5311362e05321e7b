/*
 * pgc-gen-man: writes one man page of section 3 per public function of
 * libpgcache, from the Doxygen blocks of the public headers.
 *
 * Usage: pgc-gen-man -o OUTDIR [-d DATE] [-v VERSION] HEADER...
 *
 * Every declaration that starts a line with PGC_API must follow its own
 * documentation block (the comment that ends just before it); the page
 * OUTDIR/pgc_<name>.3 gets NAME (from the first clause of @brief),
 * LIBRARY, SYNOPSIS (the #include line and the prototype as the header
 * declares it, without the export macro, which expands to nothing for a
 * caller), DESCRIPTION (@brief, the body and the @param list), RETURN
 * VALUE (@return), ERRORS (each -Exxx that @return names, with the clause
 * that names it), THREAD SAFETY (@par Thread safety), NOTES (@note, other
 * @par) and SEE ALSO (the other functions of the header, the functions
 * and man pages the text mentions, and libpgcache(7)).
 *
 * It is a build tool, not part of the library: plain C with nothing but
 * libc, so that the pages build wherever the library does (no Python, no
 * Doxygen). The input is trusted but checked: a PGC_API declaration without
 * a block, a block without @brief, an unknown block command or an @param
 * that names no parameter stops it with a message and exit status 1, so a
 * header the generator does not understand fails the build instead of
 * giving a wrong page. Text is escaped for troff (backslashes, control
 * characters at the start of a line, minus signs, ^ ~ ` ' in code, bytes
 * outside ASCII) and the Doxygen markup of the headers maps to man fonts:
 * @p @a @e italic; @c @b @ref #SYMBOL ::SYMBOL `code` **bold** and
 * function() or page(N) references bold; "- " lines become bullet lists.
 */

#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- Growing strings ------------------------------------------------------ */

struct buf {
	char *s;
	size_t len, cap;
};

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("pgc-gen-man: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void bput_n(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (b->len + n + 1 > cap)
			cap *= 2;
		b->s = realloc(b->s, cap);
		if (!b->s)
			die("out of memory");
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void bput(struct buf *b, const char *s)
{
	bput_n(b, s, strlen(s));
}

static void bputc(struct buf *b, char c)
{
	bput_n(b, &c, 1);
}

static const char *bstr(const struct buf *b)
{
	return b->s ? b->s : "";
}

static char *xstrndup(const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (!d)
		die("out of memory");
	return d;
}

static int is_ident(int c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* --- What a header declares ----------------------------------------------- */

#define MAX_ITEMS 64

struct param {
	char *name;
	struct buf text;
};

struct par {
	char *title; /* NULL for @note */
	struct buf text;
};

struct func {
	char *name;
	char *header; /* "io.h" */
	char *proto;  /* "ssize_t pgc_read(pgc_mapping *mapping, ...)", one line */
	struct buf brief;
	struct buf body[MAX_ITEMS]; /* paragraphs, lines kept */
	int nbody;
	struct param params[MAX_ITEMS];
	int nparams;
	struct buf ret;
	struct buf thread;
	struct par pars[MAX_ITEMS]; /* @note and @par other than Thread safety */
	int npars;
	struct buf see;
};

static struct func *funcs;
static int nfuncs, capfuncs;

static struct func *new_func(void)
{
	if (nfuncs == capfuncs) {
		capfuncs = capfuncs ? capfuncs * 2 : 64;
		funcs = realloc(funcs, capfuncs * sizeof(*funcs));
		if (!funcs)
			die("out of memory");
	}
	memset(&funcs[nfuncs], 0, sizeof(funcs[nfuncs]));
	return &funcs[nfuncs++];
}

static int is_func(const char *name, size_t n)
{
	for (int i = 0; i < nfuncs; i++)
		if (strlen(funcs[i].name) == n && !strncmp(funcs[i].name, name, n))
			return 1;
	return 0;
}

/* --- Parsing -------------------------------------------------------------- */

static char *read_file(const char *path)
{
	struct buf b = { 0 };
	char chunk[8192];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f)
		die("%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		bput_n(&b, chunk, n);
	if (ferror(f))
		die("%s: read error", path);
	fclose(f);
	return b.s ? b.s : xstrndup("", 0);
}

/* One line of the declaration: whitespace runs become one space, none after
 * '(' or before ')' and ','. */
static char *normalize_proto(const char *s, size_t n)
{
	struct buf b = { 0 };
	int space = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (isspace((unsigned char)c)) {
			space = 1;
			continue;
		}
		if (space && b.len && c != ')' && c != ',' && b.s[b.len - 1] != '(')
			bputc(&b, ' ');
		space = 0;
		bputc(&b, c);
	}
	return b.s ? b.s : xstrndup("", 0);
}

/* The parameter names of a prototype, in order; "void" and "..." have none. */
static int proto_params(const char *proto, char names[][128], int max)
{
	const char *open = strchr(proto, '('), *close = strrchr(proto, ')');
	int n = 0;

	if (!open || !close || close < open)
		return 0;
	for (const char *p = open + 1; p < close;) {
		const char *end = p;
		int depth = 0;

		while (end < close && (depth || *end != ',')) {
			depth += *end == '(' ? 1 : *end == ')' ? -1 : 0;
			end++;
		}
		/* The name: after "(*" for a function pointer, else the last
		 * identifier before any array brackets. */
		const char *q = p, *nm = NULL, *fp = strstr(p, "(*");
		size_t len = 0;

		if (fp && fp < end) {
			nm = fp + 2;
			while (is_ident(nm[len]))
				len++;
		} else {
			const char *stop = memchr(p, '[', end - p);

			for (q = p; q < (stop ? stop : end); q++)
				if (is_ident(*q) && (q == p || !is_ident(q[-1]))) {
					nm = q;
					len = 0;
					while (is_ident(nm[len]))
						len++;
				}
			if (nm && (nm == p || (len == 4 && !strncmp(nm, "void", 4))))
				nm = NULL; /* a lone type: "void" */
		}
		if (nm && len && len < 128 && n < max) {
			memcpy(names[n], nm, len);
			names[n][len] = '\0';
			n++;
		}
		p = end < close ? end + 1 : end;
	}
	return n;
}

/* The lines of a comment body: without the comment markers, the leading
 * " * " of each line, or trailing whitespace; deeper indentation is kept. */
static int comment_lines(const char *s, size_t n, char ***linesp)
{
	char **lines = NULL;
	int nl = 0;
	const char *p = s, *end = s + n;

	while (p < end) {
		const char *eol = memchr(p, '\n', end - p);
		const char *q = p, *e;

		if (!eol)
			eol = end;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if (q < eol && *q == '*' && !(q + 1 < eol && q[1] == '/')) {
			q++;
			if (q < eol && *q == ' ')
				q++;
		} else if (nl > 0) {
			q = p; /* a line without '*': keep it as it is */
		}
		e = eol;
		while (e > q && isspace((unsigned char)e[-1]))
			e--;
		lines = realloc(lines, (nl + 1) * sizeof(*lines));
		if (!lines)
			die("out of memory");
		lines[nl++] = xstrndup(q, e - q);
		p = eol + 1;
	}
	*linesp = lines;
	return nl;
}

/* A block command at the start of a line: its length, or 0. */
static size_t command_at(const char *t, const char *cmd)
{
	size_t n = strlen(cmd);

	if ((t[0] == '@' || t[0] == '\\') && !strncmp(t + 1, cmd, n) && !is_ident(t[1 + n]))
		return 1 + n;
	return 0;
}

static int is_inline_command(const char *t)
{
	static const char *const inl[] = { "p", "a", "e", "em", "c", "b", "ref", NULL };

	for (int i = 0; inl[i]; i++)
		if (command_at(t, inl[i]))
			return 1;
	return 0;
}

static void add_line(struct buf *b, const char *line)
{
	if (b->len)
		bputc(b, '\n');
	bput(b, line);
}

static void parse_doc(struct func *f, const char *c, size_t n, const char *where)
{
	char **lines;
	int nl = comment_lines(c, n, &lines);
	struct buf *cur = NULL;

	for (int i = 0; i < nl; i++) {
		const char *t = lines[i];
		size_t k;

		while (*t == ' ')
			t++;
		if (!*t) {
			cur = NULL; /* a blank line ends a paragraph or a command */
		} else if ((k = command_at(t, "brief")) || (k = command_at(t, "short"))) {
			cur = &f->brief;
			add_line(cur, t + k + strspn(t + k, " "));
		} else if ((k = command_at(t, "param"))) {
			const char *p = t + k, *nm;
			struct param *pa;

			if (*p == '[') /* @param[in] */
				p = strchr(p, ']') ? strchr(p, ']') + 1 : p;
			p += strspn(p, " ");
			nm = p;
			while (is_ident(*p))
				p++;
			if (p == nm)
				die("%s: %s: @param without a name", where, f->name);
			if (f->nparams == MAX_ITEMS)
				die("%s: %s: too many @param", where, f->name);
			pa = &f->params[f->nparams++];
			pa->name = xstrndup(nm, p - nm);
			cur = &pa->text;
			add_line(cur, p + strspn(p, " "));
		} else if ((k = command_at(t, "return")) || (k = command_at(t, "returns")) ||
			   (k = command_at(t, "retval"))) {
			cur = &f->ret;
			add_line(cur, t + k + strspn(t + k, " "));
		} else if ((k = command_at(t, "par"))) {
			const char *title = t + k + strspn(t + k, " ");

			if (!strcmp(title, "Thread safety")) {
				cur = &f->thread;
			} else {
				if (f->npars == MAX_ITEMS)
					die("%s: %s: too many @par", where, f->name);
				f->pars[f->npars].title = xstrndup(title, strlen(title));
				cur = &f->pars[f->npars++].text;
			}
		} else if ((k = command_at(t, "note"))) {
			if (f->npars == MAX_ITEMS)
				die("%s: %s: too many @note", where, f->name);
			cur = &f->pars[f->npars++].text;
			add_line(cur, t + k + strspn(t + k, " "));
		} else if ((k = command_at(t, "see")) || (k = command_at(t, "sa"))) {
			cur = &f->see;
			add_line(cur, t + k + strspn(t + k, " "));
		} else if ((t[0] == '@' || t[0] == '\\') && isalpha((unsigned char)t[1]) &&
			   !is_inline_command(t)) {
			die("%s: %s: unknown command at the start of a line: %s", where, f->name, t);
		} else {
			if (!cur) {
				if (f->nbody == MAX_ITEMS)
					die("%s: %s: too many paragraphs", where, f->name);
				cur = &f->body[f->nbody++];
			}
			add_line(cur, lines[i]); /* with its indentation, for lists */
		}
	}
	for (int i = 0; i < nl; i++)
		free(lines[i]);
	free(lines);
}

static void parse_header(const char *path)
{
	char *text = read_file(path);
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *doc = NULL, *doc_end = NULL;
	int line = 1;

	for (const char *p = text; *p; p++) {
		if (*p == '\n') {
			line++;
			continue;
		}
		if (p[0] == '/' && p[1] == '*') {
			const char *end = strstr(p + 2, "*/");

			if (!end)
				die("%s:%d: unterminated comment", path, line);
			for (const char *q = p; q < end; q++)
				line += *q == '\n';
			if (p[2] == '*' && p[3] != '/') {
				doc = p + 3;
				doc_end = end;
			} else {
				doc = NULL;
			}
			p = end + 1;
			continue;
		}
		if (p[0] == '/' && p[1] == '/') {
			while (p[1] && p[1] != '\n')
				p++;
			continue;
		}
		/* A declaration: PGC_API as the first word of a line. */
		if (!strncmp(p, "PGC_API", 7) && !is_ident(p[7]) && (p == text || p[-1] == '\n')) {
			const char *semi = strchr(p, ';'), *open, *nm;
			char where[512];
			struct func *f;

			snprintf(where, sizeof(where), "%s:%d", path, line);
			if (!semi)
				die("%s: declaration without ';'", where);
			if (!doc)
				die("%s: PGC_API declaration without a documentation block", where);
			for (const char *q = doc_end + 2; q < p; q++)
				if (!isspace((unsigned char)*q))
					die("%s: text between the documentation block and PGC_API", where);
			f = new_func();
			f->proto = normalize_proto(p + 7, semi - (p + 7));
			open = strchr(f->proto, '(');
			if (!open)
				die("%s: PGC_API declaration of something other than a function", where);
			nm = open;
			while (nm > f->proto && is_ident(nm[-1]))
				nm--;
			f->name = xstrndup(nm, open - nm);
			if (strncmp(f->name, "pgc_", 4))
				die("%s: exported function without the pgc_ prefix: %s", where, f->name);
			f->header = xstrndup(base, strlen(base));
			parse_doc(f, doc, doc_end - doc, where);
			if (!f->brief.len)
				die("%s: %s has no @brief", where, f->name);

			char names[MAX_ITEMS][128];
			int np = proto_params(f->proto, names, MAX_ITEMS);

			for (int i = 0; i < f->nparams; i++) {
				int found = 0;

				for (int j = 0; j < np; j++)
					found |= !strcmp(names[j], f->params[i].name);
				if (!found)
					die("%s: %s: @param %s names no parameter", where, f->name,
					    f->params[i].name);
			}
			for (const char *q = p; q < semi; q++)
				line += *q == '\n';
			p = semi;
			doc = NULL;
			continue;
		}
		if (!isspace((unsigned char)*p))
			doc = NULL; /* a block documents only what follows it directly */
	}
	free(text);
}

/* --- troff ---------------------------------------------------------------- */

/* Appends one byte (or a UTF-8 sequence starting at *sp) escaped for troff;
 * code != 0 for text that is code (every '-' a minus, "'" straight). */
static void esc_char(struct buf *o, const char **sp, int code, char prev)
{
	const unsigned char *s = (const unsigned char *)*sp;
	unsigned c = s[0];

	if (c >= 0x80) {
		unsigned cp = 0, len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		char tmp[16];

		cp = len == 1 ? c : c & (0x7f >> len);
		for (unsigned i = 1; i < len; i++) {
			if ((s[i] & 0xc0) != 0x80)
				die("invalid UTF-8 in a header");
			cp = cp << 6 | (s[i] & 0x3f);
		}
		snprintf(tmp, sizeof(tmp), "\\[u%04X]", cp);
		bput(o, tmp);
		*sp += len;
		return;
	}
	switch (c) {
	case '\\': bput(o, "\\e"); break;
	case '^': bput(o, "\\(ha"); break;
	case '~': bput(o, "\\(ti"); break;
	case '`': bput(o, "\\(ga"); break;
	case '\'': bput(o, code ? "\\(aq" : "'"); break;
	case '-':
		/* A hyphen only inside a word ("read-only"), else a minus. */
		if (!code && isalnum((unsigned char)prev) && isalpha(s[1]))
			bputc(o, '-');
		else
			bput(o, "\\-");
		break;
	case '\t': case '\n': bputc(o, ' '); break;
	default: bputc(o, (char)c);
	}
	*sp += 1;
}

static void esc_code_n(struct buf *o, const char *s, size_t n)
{
	const char *end = s + n;

	while (s < end)
		esc_char(o, &s, 1, 0);
}

static void font_n(struct buf *o, char font, const char *s, size_t n, int plain)
{
	if (!plain) {
		/* \% : never hyphenate a name. */
		bput(o, font == 'B' ? "\\%\\fB" : "\\%\\fI");
		esc_code_n(o, s, n);
		bput(o, "\\fR");
	} else {
		esc_code_n(o, s, n);
	}
}

/* A word after @p, #, @ref...: identifiers joined by "->", ".", "::". */
static size_t word_len(const char *s)
{
	size_t n = 0;

	for (;;) {
		while (is_ident(s[n]))
			n++;
		if (s[n] == '-' && s[n + 1] == '>' && is_ident(s[n + 2]))
			n += 2;
		else if (s[n] == '.' && is_ident(s[n + 1]))
			n += 1;
		else if (s[n] == ':' && s[n + 1] == ':' && is_ident(s[n + 2]))
			n += 2;
		else
			return n;
	}
}

static int our_symbol(const char *s)
{
	return !strncmp(s, "pgc_", 4) || !strncmp(s, "PGC_", 4);
}

/* Doxygen text to troff text (one line; plain: no fonts, for NAME). */
static void render(struct buf *o, const char *s, int plain)
{
	char prev = ' ';

	while (*s) {
		const char *start = s;
		size_t k, n = 0;

		if (*s == '\n' || *s == '\t' || *s == ' ') {
			if (o->len && o->s[o->len - 1] != ' ')
				bputc(o, ' ');
			s++;
			prev = ' ';
			continue;
		}
		if ((*s == '@' || *s == '\\') && is_inline_command(s)) {
			char font = 'I';

			k = 1 + strspn(s + 1, "abcefmpr"); /* the command word */
			if (!strncmp(s + 1, "c", k - 1) || !strncmp(s + 1, "b", k - 1) ||
			    !strncmp(s + 1, "ref", k - 1))
				font = 'B';
			s += k;
			s += strspn(s, " ");
			n = word_len(s);
			font_n(o, font, s, n, plain);
			if (s[n] == '(' && s[n + 1] == ')') {
				bput(o, "()");
				n += 2;
			}
		} else if (*s == '@' && s[1] == '@') {
			bputc(o, '@');
			n = 2;
		} else if (*s == '#' && our_symbol(s + 1) && !is_ident(prev)) {
			s++;
			n = word_len(s);
			font_n(o, 'B', s, n, plain);
		} else if (*s == ':' && s[1] == ':' && our_symbol(s + 2) && !is_ident(prev)) {
			s += 2;
			n = word_len(s);
			font_n(o, 'B', s, n, plain);
		} else if (*s == '`' && strchr(s + 1, '`')) {
			const char *e = strchr(s + 1, '`');

			font_n(o, 'B', s + 1, e - s - 1, plain);
			n = e - s; /* s advances past the closing '`' below */
			s++;
		} else if (s[0] == '*' && s[1] == '*' && strstr(s + 2, "**")) {
			const char *e = strstr(s + 2, "**");

			font_n(o, 'B', s + 2, e - s - 2, plain);
			n = e - s;
			s += 2;
		} else if (s[0] == '-' && s[1] == 'E' && isupper((unsigned char)s[2]) &&
			   !is_ident(prev)) {
			n = 1;
			while (is_ident(s[n]))
				n++;
			font_n(o, 'B', s, n, plain);
		} else if ((isalpha((unsigned char)*s) || *s == '_') && !is_ident(prev)) {
			n = 0;
			while (is_ident(s[n]))
				n++;
			if (s[n] == '(' && s[n + 1] == ')') {
				/* function(): the name bold */
				font_n(o, 'B', s, n, plain);
				bput(o, "()");
				n += 2;
			} else if (s[n] == '(' && isdigit((unsigned char)s[n + 1]) &&
				   strchr(s + n, ')') &&
				   strspn(s + n + 1, "0123456789abcdefghijklmnopqrstuvwxyz") ==
					   (size_t)(strchr(s + n, ')') - (s + n + 1))) {
				/* a man page: read(2) */
				size_t m = strchr(s + n, ')') - s + 1;

				font_n(o, 'B', s, n, plain);
				bput_n(o, s + n, m - n);
				n = m;
			} else {
				esc_code_n(o, s, n);
			}
		} else {
			esc_char(o, &s, 0, prev);
			prev = s[-1];
			continue;
		}
		s += n;
		prev = s > start ? s[-1] : prev;
	}
	while (o->len && o->s[o->len - 1] == ' ')
		o->s[--o->len] = '\0';
}

/* Writes troff text filled into lines of at most about 76 columns, none
 * starting with a control character. */
static void emit_filled(FILE *out, const char *t)
{
	size_t col = 0;

	while (*t) {
		const char *w = t;
		size_t n;

		while (*w == ' ')
			w++;
		if (!*w)
			break;
		n = strcspn(w, " ");
		if (col && col + 1 + n > 76) {
			fputc('\n', out);
			col = 0;
		} else if (col) {
			fputc(' ', out);
			col++;
		}
		if (!col && (*w == '.' || *w == '\'')) {
			fputs("\\&", out);
			col += 2;
		}
		fwrite(w, 1, n, out);
		col += n;
		t = w + n;
	}
	if (col)
		fputc('\n', out);
}

static void emit_text(FILE *out, const char *raw)
{
	struct buf o = { 0 };

	render(&o, raw, 0);
	emit_filled(out, bstr(&o));
	free(o.s);
}

/* A body paragraph: text, "- " bullet items (continued by deeper lines),
 * or a block indented by 4 or more (shown as it is). */
static void emit_paragraph(FILE *out, const char *para, int *need_pp)
{
	struct buf chunk = { 0 };
	int in_item = 0, code = 1;
	const char *p;

	for (p = para; *p;) {
		size_t n = strcspn(p, "\n");

		if (strspn(p, " ") < 4 && n)
			code = 0;
		p += n + (p[n] == '\n');
	}
	if (*need_pp)
		fputs(".PP\n", out);
	*need_pp = 1;
	if (code) {
		fputs(".RS 4\n.nf\n", out);
		for (p = para; *p;) {
			size_t n = strcspn(p, "\n");
			struct buf o = { 0 };

			esc_code_n(&o, p + 4, n - 4);
			if (o.len && (o.s[0] == '.' || o.s[0] == '\''))
				fputs("\\&", out);
			fprintf(out, "%s\n", bstr(&o));
			free(o.s);
			p += n + (p[n] == '\n');
		}
		fputs(".fi\n.RE\n", out);
		return;
	}
	for (p = para;;) {
		size_t n = strcspn(p, "\n");
		const char *t = p + strspn(p, " ");
		int item = (t[0] == '-' || t[0] == '*') && t[1] == ' ';

		if (!*p || item) {
			if (chunk.len) {
				if (in_item)
					fputs(".IP \\(bu 2\n", out);
				emit_text(out, bstr(&chunk));
				chunk.len = 0;
				chunk.s[0] = '\0';
			}
			if (!*p)
				break;
			in_item = 1;
			t += 2;
		}
		if (chunk.len)
			bputc(&chunk, '\n');
		bput_n(&chunk, t, n - (t - p));
		p += n + (p[n] == '\n');
	}
	if (in_item)
		fputs(".PP\n", out), *need_pp = 0;
	free(chunk.s);
}

/* --- The page -------------------------------------------------------------- */

/* Whether a text starts with a word to write in lower case inside a
 * sentence: "The", "A", but not "NULL" or "I/O". */
static int lower_first(const char *s)
{
	return isupper((unsigned char)s[0]) && (islower((unsigned char)s[1]) || s[1] == ' ');
}

/* The length of the troff escape at s ("\\(aq", "\\-", "\\[u00E9]"), or 0. */
static size_t escape_len(const char *s)
{
	if (s[0] != '\\' || !s[1])
		return 0;
	if (s[1] == '(')
		return s[2] && s[3] ? 4 : 2;
	if (s[1] == '[')
		return strchr(s, ']') ? (size_t)(strchr(s, ']') - s) + 1 : 2;
	return 2;
}

/* The NAME line, from the brief in plain troff: its first clause (up to a
 * ':', ';' or the end of the sentence, outside parentheses); if that is
 * long, without its parentheses; if still long, up to the last comma that
 * makes it fit (or the first).
 * The first letter is lower case: "finds a page and takes a reference on
 * it (the kernel's find_get_page)". */
static void name_line(struct buf *o, const struct func *f)
{
	struct buf plain = { 0 }, cut = { 0 };
	const char *s;
	size_t n = 0, k;
	int depth = 0;

	render(&plain, bstr(&f->brief), 1);
	s = bstr(&plain);
	for (; s[n]; n++) {
		if ((k = escape_len(s + n))) {
			n += k - 1;
			continue;
		}
		if (s[n] == '(')
			depth++;
		else if (s[n] == ')' && depth)
			depth--;
		else if (!depth && (s[n] == ':' || s[n] == ';'))
			break;
		else if (!depth && s[n] == '.' && (s[n + 1] == ' ' || !s[n + 1]))
			break;
	}
	bput_n(&cut, s, n);
	if (cut.len > 60) {
		struct buf t = { 0 };

		depth = 0;
		for (size_t i = 0; i < cut.len; i++) {
			if ((k = escape_len(cut.s + i))) {
				if (!depth)
					bput_n(&t, cut.s + i, k);
				i += k - 1;
				continue;
			}
			if (cut.s[i] == '(') {
				if (!depth++ && t.len && t.s[t.len - 1] == ' ')
					t.s[--t.len] = '\0';
			} else if (cut.s[i] == ')' && depth) {
				depth--;
			} else if (!depth) {
				bputc(&t, cut.s[i]);
			}
		}
		free(cut.s);
		cut = t;
	}
	if (cut.len > 76) {
		/* The longest run of comma-separated parts that fits. */
		const char *comma = strstr(bstr(&cut), ", "), *c;

		while (comma && (c = strstr(comma + 2, ", ")) && c - cut.s <= 76)
			comma = c;
		if (comma) {
			cut.len = comma - cut.s;
			cut.s[cut.len] = '\0';
		}
	}
	while (cut.len && cut.s[cut.len - 1] == ' ')
		cut.s[--cut.len] = '\0';
	s = bstr(&cut);
	if (lower_first(s)) {
		bputc(o, (char)tolower((unsigned char)s[0]));
		bput(o, s + 1);
	} else {
		bput(o, s);
	}
	free(plain.s);
	free(cut.s);
}

static void emit_synopsis(FILE *out, const struct func *f)
{
	const char *proto = f->proto, *open = strchr(proto, '('), *close = strrchr(proto, ')');
	char names[MAX_ITEMS][128];
	int np = proto_params(proto, names, MAX_ITEMS), first = 1, pi = 0;
	size_t indent = open - proto + 1, col = indent;
	struct buf line = { 0 };

	fprintf(out, ".SH SYNOPSIS\n.nf\n.B #include <pgcache/%s>\n.P\n", f->header);
	/* Continuation lines align after the '(' unless that is too deep. */
	if (indent > 40)
		indent = 8;
	bput(&line, "\\fB");
	esc_code_n(&line, proto, open - proto + 1);
	for (const char *p = open + 1;;) {
		const char *end = p, *nm = NULL;
		size_t len, nlen = 0;
		int depth = 0;

		while (end < close && (depth || *end != ',')) {
			depth += *end == '(' ? 1 : *end == ')' ? -1 : 0;
			end++;
		}
		/* The piece: the parameter and its "," or ");". */
		len = (end - p) + (end < close ? 1 : 2);
		if (!first && col + 1 + len > 70) {
			bput(&line, "\\fR\n");
			fputs(bstr(&line), out);
			line.len = 0;
			line.s[0] = '\0';
			bput(&line, "\\fB");
			for (size_t i = 0; i < indent; i++)
				bputc(&line, ' ');
			col = indent;
			first = 1;
		}
		if (!first) {
			bputc(&line, ' ');
			col++;
		}
		first = 0;
		/* The name in italics: the piece's last match of its name. */
		if (pi < np) {
			size_t l = strlen(names[pi]);

			for (const char *q = p; q + l <= end; q++)
				if (!strncmp(q, names[pi], l) && !is_ident(q[l]) &&
				    (q == p || !is_ident(q[-1])))
					nm = q, nlen = l;
		}
		if (nm) {
			pi++;
			esc_code_n(&line, p, nm - p);
			bput(&line, "\\fI");
			esc_code_n(&line, nm, nlen);
			bput(&line, "\\fB");
			esc_code_n(&line, nm + nlen, end - nm - nlen);
		} else {
			esc_code_n(&line, p, end - p);
		}
		bput(&line, end < close ? "," : ");");
		col += len;
		if (end >= close)
			break;
		p = end + 1;
		while (*p == ' ')
			p++;
	}
	bput(&line, "\\fR\n");
	fputs(bstr(&line), out);
	fputs(".fi\n", out);
	free(line.s);
}

/* The indent of a .TP list: its longest tag and two, at least the usual
 * 7 and at most 14, so that a long tag goes on a line of its own. */
static int tag_width(int width, const char *tag)
{
	int w = (int)strlen(tag) + 2;

	w = w > width ? w : width;
	return w > 14 ? width : w;
}

/* --- ERRORS: the -Exxx named by @return ----------------------------------- */

#define MAX_PIECES 8

struct err {
	char name[32];
	struct buf piece[MAX_PIECES]; /* raw Doxygen text, one clause each */
	int npieces;
};

static const char *generic_error(const char *name)
{
	static const char *const tab[][2] = {
		{ "EINVAL", "An argument is not valid." },
		{ "ENOMEM", "Out of memory." },
		{ "EAGAIN", "The call would have had to wait." },
		{ "EBUSY", "The object is in use." },
		{ "ENOENT", "The object does not exist." },
		{ "EIO", "An I/O error." },
		{ NULL, NULL },
	};

	for (int i = 0; tab[i][0]; i++)
		if (!strcmp(tab[i][0], name))
			return tab[i][1];
	return "See RETURN VALUE.";
}

/* A code such as -EINVAL at s, not inside a word: its length, or 0. */
static size_t errno_token(const char *s, const char *start)
{
	size_t n = 2;

	if (s[0] != '-' || s[1] != 'E' || !isupper((unsigned char)s[2]))
		return 0;
	if (s > start && is_ident(s[-1]))
		return 0;
	while (is_ident(s[n]))
		n++;
	return n;
}

static struct err *find_err(struct err *errs, int *nerrs, const char *name, size_t n, int *isnew)
{
	for (int i = 0; i < *nerrs; i++)
		if (strlen(errs[i].name) == n && !strncmp(errs[i].name, name, n)) {
			*isnew = 0;
			return &errs[i];
		}
	if (*nerrs == MAX_ITEMS || n >= sizeof(errs[0].name))
		die("too many error codes in one @return");
	memset(&errs[*nerrs], 0, sizeof(errs[0]));
	memcpy(errs[*nerrs].name, name, n);
	*isnew = 1;
	return &errs[(*nerrs)++];
}

static struct buf *new_piece(struct err *e)
{
	if (e->npieces == MAX_PIECES)
		die("%s named too often in one @return", e->name);
	return &e->piece[e->npieces++];
}

/* Strips separators and a leading "or"/"and" from [*s, *e). */
static void trim(const char **s, const char **e)
{
	for (;;) {
		while (*s < *e && strchr(" \n,;:", **s))
			(*s)++;
		while (*e > *s && strchr(" \n,;:.", (*e)[-1]))
			(*e)--;
		if (*e - *s >= 3 && !strncmp(*s, "or ", 3))
			*s += 3;
		else if (*e - *s >= 4 && !strncmp(*s, "and ", 4))
			*s += 4;
		else
			return;
	}
}

/* The end of the clause that starts at s: ';' or the end of a sentence,
 * outside parentheses. */
static const char *clause_end(const char *s)
{
	int depth = 0;

	for (; *s; s++) {
		if (*s == '(')
			depth++;
		else if (*s == ')' && depth)
			depth--;
		else if (!depth && *s == ';')
			return s;
		else if (!depth && *s == '.' && (s[1] == ' ' || s[1] == '\n')) {
			const char *q = s + 1;

			while (*q == ' ' || *q == '\n')
				q++;
			if (isupper((unsigned char)*q) || (q[0] == '-' && q[1] == 'E'))
				return s;
		}
	}
	return s;
}

/*
 * The @return text is cut into clauses (at ';' and at sentence ends outside
 * parentheses) and clauses into items (at commas outside parentheses, and
 * before a second code). An item with a code outside parentheses describes
 * that code: the text after it ("-ENOMEM if no frame could be had"), and
 * the items after it that name no code continue it ("-EINVAL if A, B, or
 * C"). Codes without text of their own take that of the next code when it
 * starts with "as" ("-EINVAL, -ENODEV as pgc_move_pages()"). A code named
 * only inside parentheses ("the readpage error (-EIO...)") gets its item
 * less the parenthesis (and its own words in it), unless it was described
 * already. A clause without a code that speaks of an error or errno, after
 * the first one (which describes success), goes to "Other errors".
 */
static int collect_errors(const char *ret, struct err *errs, struct buf *other)
{
	int nerrs = 0;

	for (const char *s = ret, *ce; *s; s = *ce ? ce + 1 : ce) {
		struct buf *last = NULL;   /* the piece items continue */
		struct buf *pending[MAX_ITEMS]; /* pieces still empty */
		int npending = 0;

		ce = clause_end(s);
		/* A clause that names no code but speaks of errors. */
		int codes = 0;

		for (const char *q = s; q < ce && !codes; q++)
			codes = errno_token(q, ret) != 0;
		if (!codes) {
			const char *a = s, *b = ce;
			struct buf t = { 0 };

			trim(&a, &b);
			bput_n(&t, a, b - a);
			if (s > ret && (strstr(bstr(&t), "error") || strstr(bstr(&t), "errno"))) {
				if (other->len)
					bput(other, "; ");
				if (lower_first(t.s))
					t.s[0] = (char)tolower((unsigned char)t.s[0]);
				bput(other, bstr(&t));
			}
			free(t.s);
			continue;
		}
		for (const char *it = s, *ie; it < ce; it = ie < ce && *ie == ',' ? ie + 1 : ie) {
			const char *tok = NULL, *a, *b;
			size_t toklen = 0, l;
			int d = 0, nested = 0, isnew;

			for (ie = it; ie < ce && (d || *ie != ','); ie++) {
				if (*ie == '(')
					d++;
				else if (*ie == ')' && d)
					d--;
				else if (!d && (l = errno_token(ie, ret))) {
					if (tok)
						break; /* a second code starts the next item */
					tok = ie;
					toklen = l;
					ie += l - 1;
				}
			}
			if (tok) {
				struct err *e = find_err(errs, &nerrs, tok + 1, toklen - 1, &isnew);
				struct buf *pc = new_piece(e);

				a = tok + toklen;
				b = ie;
				trim(&a, &b);
				bput_n(pc, a, b - a);
				if (a < b && b - a > 3 && !strncmp(a, "as ", 3))
					for (int i = 0; i < npending; i++)
						bput_n(pending[i], a, b - a);
				if (a < b)
					npending = 0;
				else if (npending < MAX_ITEMS)
					pending[npending++] = pc;
				last = pc;
				continue;
			}
			/* Codes inside parentheses. */
			d = 0;
			for (const char *q = it; q < ie; q++) {
				if (*q == '(')
					d++;
				else if (*q == ')' && d)
					d--;
				else if (d && (l = errno_token(q, ret))) {
					struct err *e = find_err(errs, &nerrs, q + 1, l - 1, &isnew);
					const char *po = q, *pcl = q;

					nested = 1;
					if (isnew) {
						/* The item less the parenthesis, and the
						 * code's own words in it ("-EAGAIN with
						 * NOWAIT": "with NOWAIT"). */
						struct buf *pc = new_piece(e);
						const char *w = q + l, *we = w;

						while (po > it && *po != '(')
							po--;
						while (pcl < ie && *pcl != ')')
							pcl++;
						while (we < pcl && *we != ',')
							we++;
						a = it;
						b = po;
						trim(&a, &b);
						bput_n(pc, a, b - a);
						trim(&w, &we);
						if (w < we && strncmp(w, "...", 3) && *w != '.') {
							bput(pc, " (");
							bput_n(pc, w, we - w);
							bput(pc, ")");
						}
						if (pcl < ie)
							bput_n(pc, pcl + 1, ie - pcl - 1);
					}
					q += l - 1;
				}
			}
			if (nested) {
				last = NULL;
			} else if (last) {
				bput(last, ", ");
				a = it;
				b = ie;
				while (a < b && (*a == ' ' || *a == '\n'))
					a++;
				bput_n(last, a, b - a);
			}
		}
	}
	return nerrs;
}

/* One sentence from a clause: capital first letter, final period. */
static void add_sentence(struct buf *b, const char *s)
{
	const char *e = s + strlen(s);

	trim(&s, &e);
	if (s >= e)
		return;
	if (b->len)
		bputc(b, ' ');
	bputc(b, (char)toupper((unsigned char)*s));
	bput_n(b, s + 1, e - s - 1);
	bputc(b, '.');
}

static int err_cmp(const void *a, const void *b)
{
	return strcmp(((const struct err *)a)->name, ((const struct err *)b)->name);
}

static void emit_errors(FILE *out, const struct func *f)
{
	struct err errs[MAX_ITEMS];
	struct buf other = { 0 };
	int n = collect_errors(bstr(&f->ret), errs, &other), width = 7;

	if (!n && !other.len)
		return;
	/* In alphabetical order, as man-pages(7) asks. */
	qsort(errs, n, sizeof(errs[0]), err_cmp);
	fputs(".SH ERRORS\n", out);
	for (int i = 0; i < n; i++)
		width = tag_width(width, errs[i].name);
	for (int i = 0; i < n; i++) {
		struct buf t = { 0 };

		for (int j = 0; j < errs[i].npieces; j++) {
			add_sentence(&t, bstr(&errs[i].piece[j]));
			free(errs[i].piece[j].s);
		}
		fprintf(out, ".TP %d\n.B %s\n", width, errs[i].name);
		emit_text(out, t.len ? bstr(&t) : generic_error(errs[i].name));
		free(t.s);
	}
	if (other.len) {
		struct buf t = { 0 };

		if (n) {
			fputs(".PP\n", out);
			bput(&t, "Other errors: ");
			bput(&t, bstr(&other));
		} else {
			bputc(&t, (char)toupper((unsigned char)other.s[0]));
			bput(&t, other.s + 1);
		}
		bputc(&t, '.');
		emit_text(out, bstr(&t));
		free(t.s);
	}
	free(other.s);
}

/* --- SEE ALSO --------------------------------------------------------------- */

struct ref {
	char name[128];
	int section;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;

	return x->section != y->section ? x->section - y->section : strcmp(x->name, y->name);
}

static void add_ref(struct ref *refs, int *n, int max, const char *name, size_t len, int sec)
{
	if (len == 0 || len >= sizeof(refs[0].name))
		return;
	for (int i = 0; i < *n; i++)
		if (refs[i].section == sec && strlen(refs[i].name) == len &&
		    !strncmp(refs[i].name, name, len))
			return;
	if (*n == max)
		die("too many SEE ALSO entries");
	memcpy(refs[*n].name, name, len);
	refs[*n].name[len] = '\0';
	refs[*n].section = sec;
	(*n)++;
}

/* Functions of the library and man pages "name(N)" that a text mentions. */
static void scan_refs(struct ref *refs, int *n, int max, const char *s)
{
	for (const char *p = s; *p; p++) {
		size_t len = 0;

		if (!is_ident(*p) || (p > s && is_ident(p[-1])))
			continue;
		while (is_ident(p[len]))
			len++;
		if (is_func(p, len))
			add_ref(refs, n, max, p, len, 3);
		else if (p[len] == '(' && isdigit((unsigned char)p[len + 1]) && p[len + 2] == ')')
			add_ref(refs, n, max, p, len, p[len + 1] - '0');
		p += len - 1;
	}
}

static void emit_see_also(FILE *out, const struct func *f)
{
	enum { MAX_REFS = 256 };
	struct ref refs[MAX_REFS];
	int n = 0;

	for (int i = 0; i < nfuncs; i++)
		if (!strcmp(funcs[i].header, f->header))
			add_ref(refs, &n, MAX_REFS, funcs[i].name, strlen(funcs[i].name), 3);
	scan_refs(refs, &n, MAX_REFS, bstr(&f->brief));
	for (int i = 0; i < f->nbody; i++)
		scan_refs(refs, &n, MAX_REFS, bstr(&f->body[i]));
	for (int i = 0; i < f->nparams; i++)
		scan_refs(refs, &n, MAX_REFS, bstr(&f->params[i].text));
	scan_refs(refs, &n, MAX_REFS, bstr(&f->ret));
	scan_refs(refs, &n, MAX_REFS, bstr(&f->thread));
	for (int i = 0; i < f->npars; i++)
		scan_refs(refs, &n, MAX_REFS, bstr(&f->pars[i].text));
	scan_refs(refs, &n, MAX_REFS, bstr(&f->see));
	add_ref(refs, &n, MAX_REFS, "libpgcache", 10, 7);
	qsort(refs, n, sizeof(refs[0]), ref_cmp);

	fputs(".SH SEE ALSO\n", out);
	for (int i = 0, first = 1; i < n; i++) {
		if (!strcmp(refs[i].name, f->name))
			continue;
		if (!first)
			fputs(",\n", out);
		first = 0;
		fprintf(out, ".BR \\%%%s (%d)", refs[i].name, refs[i].section);
	}
	fputc('\n', out);
}

static void write_page(const struct func *f, const char *outdir, const char *date,
		       const char *version)
{
	char path[4096];
	struct buf nm = { 0 };
	FILE *out;
	int need_pp = 0;

	snprintf(path, sizeof(path), "%s/%s.3", outdir, f->name);
	out = fopen(path, "w");
	if (!out)
		die("%s: %s", path, strerror(errno));

	fprintf(out, ".\\\" Generated by docs/man/pgc-gen-man.c from include/pgcache/%s.\n"
		     ".\\\" Do not edit: change the header's documentation instead.\n",
		f->header);
	fprintf(out, ".TH %s 3 %s \"libpgcache %s\" \"libpgcache Manual\"\n", f->name, date,
		version);
	/* Ragged right and no hyphenation: the text is full of long names,
	 * which read badly spread out or cut in two. */
	fputs(".ad l\n.nh\n", out);

	name_line(&nm, f);
	fprintf(out, ".SH NAME\n%s \\- %s\n", f->name, bstr(&nm));
	free(nm.s);
	fputs(".SH LIBRARY\nlibpgcache, a user\\-space page cache (\\fIlibpgcache\\fR, "
	      "\\fI\\-lpgcache\\fR;\n\\fIpkg\\-config \\-\\-libs pgcache\\fR)\n", out);

	emit_synopsis(out, f);

	fputs(".SH DESCRIPTION\n", out);
	emit_text(out, bstr(&f->brief));
	need_pp = 1;
	for (int i = 0; i < f->nbody; i++)
		emit_paragraph(out, bstr(&f->body[i]), &need_pp);
	if (f->nparams) {
		int width = 7;

		for (int i = 0; i < f->nparams; i++)
			width = tag_width(width, f->params[i].name);
		fputs(".SS Arguments\n", out);
		for (int i = 0; i < f->nparams; i++) {
			fprintf(out, ".TP %d\n.I %s\n", width, f->params[i].name);
			emit_text(out, bstr(&f->params[i].text));
		}
	}

	fputs(".SH RETURN VALUE\n", out);
	if (f->ret.len) {
		struct buf t = { 0 };
		const char *r = bstr(&f->ret);

		bput(&t, f->name);
		bput(&t, "() returns ");
		if (lower_first(r)) {
			bputc(&t, (char)tolower((unsigned char)r[0]));
			r++;
		}
		bput(&t, r);
		emit_text(out, bstr(&t));
		free(t.s);
		emit_errors(out, f);
	} else {
		fprintf(out, "\\fB%s\\fR() returns no value.\n", f->name);
	}

	if (f->thread.len) {
		fputs(".SH THREAD SAFETY\n", out);
		emit_text(out, bstr(&f->thread));
	}
	if (f->npars) {
		fputs(".SH NOTES\n", out);
		need_pp = 0;
		for (int i = 0; i < f->npars; i++) {
			if (need_pp)
				fputs(".PP\n", out);
			if (f->pars[i].title) {
				struct buf t = { 0 };

				render(&t, f->pars[i].title, 1);
				fprintf(out, ".B %s\n.br\n", bstr(&t));
				free(t.s);
			}
			emit_text(out, bstr(&f->pars[i].text));
			need_pp = 1;
		}
	}
	emit_see_also(out, f);

	if (fclose(out))
		die("%s: write error", path);
}

int main(int argc, char **argv)
{
	const char *outdir = NULL, *date = "1970-01-01", *version = "?";
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			outdir = argv[++i];
		else if (!strcmp(argv[i], "-d") && i + 1 < argc)
			date = argv[++i];
		else if (!strcmp(argv[i], "-v") && i + 1 < argc)
			version = argv[++i];
		else
			die("usage: pgc-gen-man -o OUTDIR [-d DATE] [-v VERSION] HEADER...");
	}
	if (!outdir || i == argc)
		die("usage: pgc-gen-man -o OUTDIR [-d DATE] [-v VERSION] HEADER...");
	for (; i < argc; i++)
		parse_header(argv[i]);
	if (!nfuncs)
		die("no PGC_API function in the headers given");
	for (int j = 0; j < nfuncs; j++)
		for (int k = j + 1; k < nfuncs; k++)
			if (!strcmp(funcs[j].name, funcs[k].name))
				die("%s is declared twice", funcs[j].name);
	for (int j = 0; j < nfuncs; j++)
		write_page(&funcs[j], outdir, date, version);
	return 0;
}

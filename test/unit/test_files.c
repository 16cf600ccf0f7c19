/*
 * File formats: every parameter-file format, every output format (with the
 * position of a bad number), durations, placeholders, config positions, and
 * the ensemble state's round trip including the random state.
 */
#include <math.h>
#include <hdf5.h>
#include <hdf5_hl.h>

#include "test/unit/testutil.h"
#include "lib/config.h"
#include "lib/fsio.h"
#include "lib/paramfile.h"
#include "lib/state.h"
#include "lib/util.h"
#include "lib/vecio.h"

static const char base_yaml[] =
    "name: files\n"
    "ensemble_size: 3\n"
    "iterations: 2\n"
    "parameters:\n"
    "  F:\n"
    "    prior: {normal: {mean: 0, std: 1}}\n"
    "  v:\n"
    "    prior: {normal: {mean: 0, std: 1}}\n"
    "    size: 2\n"
    "  dt: {fixed: 0.01}\n"
    "  w: {fixed: [1, 2.5]}\n"
    "observations:\n"
    "  values: [1, 2, 3]\n"
    "  noise: {variance: 4}\n"
    "forward_model:\n"
    "  command: [./model]\n"
    "  output: {file: out.txt}\n";


static char *
render(const char *extra)
{
	struct experiment	 e;
	double			 theta[3] = { 10, -0.5, 2e-7 };
	char			*out = NULL, *cause = NULL, *tmpl = NULL;

	load_experiment(base_yaml, extra, &e);
	if (e.pformat == PF_TEMPLATE)
		assert_int_equal(read_file(e.ptemplate, &tmpl, NULL, NULL), 0);
	if (paramfile_render(&e, theta, 2, 5, tmpl, &out, &cause) != 0) {
		out = xasprintf("error: %s", cause);
		free(cause);
	}
	free(tmpl);
	experiment_release(&e);
	return out;
}

static void
test_config_fields(void **state)
{
	struct experiment	 e;

	load_experiment(base_yaml, "", &e);
	assert_int_equal(e.nparams, 4);
	assert_int_equal(e.ncalib, 3);
	assert_int_equal(e.params[1].offset, 1);
	assert_true(e.params[1].vector);
	assert_true(e.params[3].fixed && e.params[3].vector);
	assert_int_equal(e.params[3].size, 2);
	assert_int_equal(e.noise.kind, NOISE_VARIANCE);
	assert_close(e.noise.value, 4, 0);
	assert_int_equal(e.obs.format, VF_INLINE);
	assert_string_equal(e.method, "eki");
	assert_close(e.timestep, 1, 0);
	assert_close(e.min_success, 0.5, 0);
	assert_int_equal(e.pformat, PF_TOML);
	assert_string_equal(e.pfile, "parameters.toml");
	assert_non_null(strstr(e.output_dir, "/output"));
	experiment_release(&e);
}

static void
test_config_positions(void **state)
{
	struct experiment	 e;
	char			*cause = NULL, *text;

	text = xasprintf("%s%s", base_yaml, "algorithm:\n  timestep: {fixd: 1}\n");
	put_text("bad.yaml", text);
	free(text);
	assert_int_equal(config_load(test_path("bad.yaml"), NULL, NULL, &e,
	    &cause), -1);
	assert_non_null(strstr(cause, "bad.yaml:19:14: unknown key "
	    "'algorithm.timestep.fixd' (did you mean 'fixed'?)"));
	free(cause);
}

static void
test_paramfile_formats(void **state)
{
	char	*s;

	s = render("");
	assert_string_equal(s,
	    "[F]\nvalue = 10.0\ntype = \"float\"\n\n"
	    "[v]\nvalue = [-0.5, 2e-07]\ntype = \"float\"\n\n"
	    "[dt]\nvalue = 0.01\ntype = \"float\"\n\n"
	    "[w]\nvalue = [1.0, 2.5]\ntype = \"float\"\n");
	free(s);
	s = render("  parameter_file: {name: p.json, format: json}\n");
	assert_string_equal(s, "{\"F\": 10.0, \"v\": [-0.5, 2e-07], \"dt\": 0.01, "
	    "\"w\": [1.0, 2.5]}\n");
	free(s);
	s = render("  parameter_file: {name: p.yaml, format: yaml}\n");
	assert_string_equal(s, "F: 10.0\nv: [-0.5, 2e-07]\ndt: 0.01\nw: [1.0, 2.5]\n");
	free(s);
	s = render("  parameter_file: {name: p.env, format: env}\n");
	assert_string_equal(s, "F=10.0\nv=-0.5,2e-07\ndt=0.01\nw=1.0,2.5\n");
	free(s);
	put_text("t.in", "F={{F}} v2={{v[2]}} v={{v}} it={{iteration}} m={{member}}\n");
	s = render("  parameter_file: {name: p.in, format: template, template: t.in}\n");
	assert_string_equal(s, "F=10.0 v2=2e-07 v=-0.5, 2e-07 it=2 m=5\n");
	free(s);
	put_text("t.in", "line one\nF={{G}}\n");
	s = render("  parameter_file: {name: p.in, format: template, template: t.in}\n");
	assert_non_null(strstr(s, "t.in:2: unknown placeholder '{{G}}'"));
	free(s);
	put_text("t.in", "{{v[3]}}");
	s = render("  parameter_file: {name: p.in, format: template, template: t.in}\n");
	assert_non_null(strstr(s, "'{{v[3]}}' is out of range 1..2"));
	free(s);
}

static void
check_vec(const struct vsource *src, const double *want, size_t n)
{
	double	*v = NULL;
	size_t	 k = 0, i;
	char	*cause = NULL;

	if (vec_read(src, &v, &k, &cause) != 0) {
		print_error("%s\n", cause);
		fail();
	}
	assert_int_equal(k, n);
	for (i = 0; i < n; i++)
		assert_close(v[i], want[i], 0);
	free(v);
}

static struct vsource
src(const char *name, const char *dataset)
{
	struct vsource	 s = { 0 };

	s.path = test_path(name);
	s.format = vformat_of(name);
	s.dataset = (char *)dataset;
	return s;
}

static void
npy(const char *name, const char *descr, int fortran, const char *shape,
    const void *data, size_t len)
{
	char	 hdr[128], buf[512];
	size_t	 hl;

	hl = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': %s, "
	    "'shape': %s, }", descr, fortran ? "True" : "False", shape);
	while ((10 + hl + 1) % 64)
		hdr[hl++] = ' ';
	hdr[hl++] = '\n';
	memcpy(buf, "\x93NUMPY\x01\x00", 8);
	buf[8] = hl & 0xff;
	buf[9] = hl >> 8;
	memcpy(buf + 10, hdr, hl);
	memcpy(buf + 10 + hl, data, len);
	put_file(name, buf, 10 + hl + len);
}

static void
test_output_formats(void **state)
{
	const double	 want[6] = { 1, 2, 3, 4, 5, 6 };
	const double	 seq[4] = { 1.5, -2, 3e10, 0.25 };
	struct vsource	 s;
	char		*cause = NULL;
	double		*v;
	size_t		 n;
	float		 f[3] = { 1, 2, 3 };
	unsigned char	 be[16];
	hsize_t		 dims[2] = { 2, 3 };
	hid_t		 h;
	int		 i, j;

	put_text("a.txt", "# comment\n1.5, -2\n3e10;0.25  # trailing\n");
	s = src("a.txt", NULL);
	check_vec(&s, seq, 4);
	put_text("b.csv", "1,2\n3,x4\n");
	s = src("b.csv", NULL);
	assert_int_equal(vec_read(&s, &v, &n, &cause), -1);
	assert_non_null(strstr(cause, "b.csv:2:3: not a number: 'x4'"));
	free(cause);
	cause = NULL;

	h = H5Fcreate(test_path("g.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	H5LTmake_dataset_double(h, "/g", 2, dims, want);
	H5Fclose(h);
	s = src("g.h5", "/g");
	check_vec(&s, want, 6);
	s = src("g.h5", "/nothere");
	assert_int_equal(vec_read(&s, &v, &n, &cause), -1);
	assert_non_null(strstr(cause, "no dataset '/nothere'"));
	free(cause);
	cause = NULL;

	npy("c.npy", "<f8", 0, "(6,)", want, sizeof want);
	s = src("c.npy", NULL);
	check_vec(&s, want, 6);
	npy("d.npy", "<f4", 0, "(3,)", f, sizeof f);
	s = src("d.npy", NULL);
	check_vec(&s, want, 3);
	/* Fortran order: column-major storage of [[1,2,3],[4,5,6]]. */
	{
		const double colmajor[6] = { 1, 4, 2, 5, 3, 6 };

		npy("e.npy", "<f8", 1, "(2, 3)", colmajor, sizeof colmajor);
		s = src("e.npy", NULL);
		check_vec(&s, want, 6);
	}
	for (i = 0; i < 2; i++) {
		uint64_t u;

		memcpy(&u, &want[i], 8);
		for (j = 0; j < 8; j++)
			be[i * 8 + j] = u >> (56 - 8 * j);
	}
	npy("f.npy", ">f8", 0, "(2,)", be, 16);
	s = src("f.npy", NULL);
	check_vec(&s, want, 2);
	npy("g.npy", "<i8", 0, "(2,)", be, 16);
	s = src("g.npy", NULL);
	assert_int_equal(vec_read(&s, &v, &n, &cause), -1);
	assert_non_null(strstr(cause, "not supported"));
	free(cause);
	cause = NULL;

	put_file("h.f64", want, sizeof want);
	s = src("h.f64", NULL);
	check_vec(&s, want, 6);
	put_file("i.f64", want, 13);
	s = src("i.f64", NULL);
	assert_int_equal(vec_read(&s, &v, &n, &cause), -1);
	assert_non_null(strstr(cause, "not a multiple of 8"));
	free(cause);
}

static void
test_durations_and_placeholders(void **state)
{
	const char *const vals[] = { "/x", "/x/m", "3", "7", "/x/p.toml", "/x/o" };
	double	 d;
	char	*out, *cause = NULL;

	assert_int_equal(parse_duration("90", &d), 0);
	assert_close(d, 90, 0);
	assert_int_equal(parse_duration("10m", &d), 0);
	assert_close(d, 600, 0);
	assert_int_equal(parse_duration("2h30m", &d), 0);
	assert_close(d, 9000, 0);
	assert_int_equal(parse_duration("1d", &d), 0);
	assert_close(d, 86400, 0);
	assert_int_equal(parse_duration("01:30:05", &d), 0);
	assert_close(d, 5405, 0);
	assert_int_equal(parse_duration("ten", &d), -1);
	assert_int_equal(parse_duration("5x", &d), -1);
	assert_int_equal(command_expand("--in={parameters}:{iteration}/{member}",
	    vals, &out, &cause), 0);
	assert_string_equal(out, "--in=/x/p.toml:3/7");
	free(out);
	assert_int_equal(command_expand("{experiment_dir}{member_dir}{output}",
	    vals, &out, &cause), 0);
	assert_string_equal(out, "/x/x/m/x/o");
	free(out);
	assert_int_equal(command_expand("{nope}", vals, &out, &cause), -1);
	assert_non_null(strstr(cause, "unknown placeholder '{nope}'"));
	free(cause);
}

static void
test_state_round_trip(void **state)
{
	struct experiment	 e;
	struct ensemble		 en = { 0 }, back;
	struct member_status	 st = { 0 }, st2;
	char			*cause = NULL, *dir;
	double			 u[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	size_t			 i;

	load_experiment(base_yaml, "", &e);
	free(e.output_dir);
	e.output_dir = xstrdup(test_path("out"));
	en.iteration = 1;
	en.n = 3;
	en.p = 3;
	en.u = u;
	en.theta = u;
	en.timestep = 0.5;
	en.time = 1.5;
	en.rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(en.rng, 99);
	gsl_rng_get(en.rng);
	dir = iteration_dir(&e, 1);
	assert_int_equal(mkdirs(dir, NULL), 0);
	free(dir);
	assert_int_equal(ensemble_write(&e, &en, &cause), 0);
	assert_int_equal(ensemble_read(&e, 1, &back, &cause), 0);
	for (i = 0; i < 9; i++)
		assert_close(back.u[i], u[i], 0);
	assert_close(back.timestep, 0.5, 0);
	assert_close(back.time, 1.5, 0);
	/* The restored generator continues the same stream. */
	for (i = 0; i < 5; i++)
		assert_int_equal(gsl_rng_get(back.rng), gsl_rng_get(en.rng));
	assert_int_equal(newest_iteration(&e), -1);
	ensemble_release(&back);
	gsl_rng_free(en.rng);

	st.success = 0;
	st.exit_status = 3;
	st.attempt = 2;
	st.start = 1000.25;
	st.end = 1002.5;
	snprintf(st.host, sizeof st.host, "node7");
	snprintf(st.reason, sizeof st.reason, "exit status 3");
	assert_int_equal(status_write(test_dir, &st, &cause), 0);
	assert_int_equal(status_read(test_dir, &st2, &cause), 1);
	assert_int_equal(st2.success, 0);
	assert_int_equal(st2.exit_status, 3);
	assert_int_equal(st2.attempt, 2);
	assert_string_equal(st2.host, "node7");
	assert_string_equal(st2.reason, "exit status 3");
	assert_close(st2.end - st2.start, 2.25, 1e-9);
	assert_string_equal(st2.attempt_id, "");

	/* The attempt token goes round; one that is not hex is dropped. */
	snprintf(st.attempt_id, sizeof st.attempt_id, "0123456789abcdef");
	assert_int_equal(status_write(test_dir, &st, &cause), 0);
	assert_int_equal(status_read(test_dir, &st2, &cause), 1);
	assert_string_equal(st2.attempt_id, "0123456789abcdef");
	snprintf(st.attempt_id, sizeof st.attempt_id, "abc;rm");
	assert_int_equal(status_write(test_dir, &st, &cause), 0);
	assert_int_equal(status_read(test_dir, &st2, &cause), 1);
	assert_string_equal(st2.attempt_id, "");
	experiment_release(&e);
}

int
main(void)
{
	int rc;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_fields),
		cmocka_unit_test(test_config_positions),
		cmocka_unit_test(test_paramfile_formats),
		cmocka_unit_test(test_output_formats),
		cmocka_unit_test(test_durations_and_placeholders),
		cmocka_unit_test(test_state_round_trip),
	};

	make_test_dir();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	remove_tree(test_dir, NULL);
	return rc;
}

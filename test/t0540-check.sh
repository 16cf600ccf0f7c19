#!/bin/sh
# calib check finds before anything is created or queued what would fail
# in every member: the model's program, the job scripts, the backend, and
# with --smoke the model itself; calib init and calib run check the model
# first too.
. "$(dirname "$0")/lib.sh"

# nothing_written DIR: no output folder, no lock file beside it.
nothing_written() {
	test ! -e "$1/output" && test ! -e "$1/.output.lock"
}
# program EXP COMMAND: set the experiment's model command.
program() {
	sed -i "s|command: .*|command: $2|" "$1/calib.yaml"
}

# A good experiment passes every check and writes nothing.
SIZE=3 ITERATIONS=1 make_experiment good
try "$CALIB" check --smoke good/calib.yaml
expect_rc 0 "calib check --smoke of a good experiment"
check "says what it checked" has out "the model's program is found and executable"
check "ran a member at the prior's centre" has out "smoke run: a member at the prior's centre ran in"
check "and wrote nothing" nothing_written good
check "not even in the temporary folder" sh -c "! ls '${TMPDIR:-/tmp}' | grep -q '^calib-smoke\.'"

# The model's program: missing, not executable, relative to the experiment.
SIZE=3 ITERATIONS=1 make_experiment rel
printf '#!/bin/sh\nexec /bin/sh "%s/test/model.sh" "$@"\n' "$TOP" >rel/m.sh
program rel '["./m.sh", "{parameters}", "{output}"]'
try "$CALIB" check rel/calib.yaml
expect_rc 2 "a model that is not executable is found by calib check"
check "naming the file, line, column, key and remedy" has err \
    "calib.yaml:14:13: 'forward_model.command': program '$TRASH/rel/m.sh' is not an executable file (chmod +x?)"
check "before anything is written" nothing_written rel
chmod +x rel/m.sh
try "$CALIB" check rel/calib.yaml
expect_rc 0 "'./m.sh' is taken from the experiment's folder"
program rel '["./nosuch.sh", "{parameters}", "{output}"]'
try "$CALIB" check rel/calib.yaml
expect_rc 2 "a missing model"
check "is named with the reason" has err \
    "'forward_model.command': program '$TRASH/rel/nosuch.sh': No such file or directory"
program rel '["no-such-model-on-path", "{parameters}"]'
try "$CALIB" check rel/calib.yaml
expect_rc 2 "a bare name not on PATH"
check "is named as such" has err "program 'no-such-model-on-path' not found in PATH"
try "$CALIB" init rel/calib.yaml
expect_rc 2 "calib init refuses it too"
check "with the same message" has err "program 'no-such-model-on-path' not found in PATH"
check "and writes nothing" nothing_written rel
try "$CALIB" run rel/calib.yaml
expect_rc 2 "calib run refuses it too"
check "and writes nothing" nothing_written rel

# Jobs that load modules or run setup lines may bring the program: init
# warns and goes on; the local backend, which has no such lines, refuses.
cat >>rel/calib.yaml <<'YAML'
resources:
  setup: [". /etc/profile"]
YAML
try "$CALIB" init rel/calib.yaml
expect_rc 0 "calib init with setup lines goes on"
check "with a warning that says why" has err \
    "calib: warning: rel/calib.yaml:14:13: 'forward_model.command': program 'no-such-model-on-path' not found in PATH (the jobs' modules and setup lines may bring it on the compute nodes)"
try "$CALIB" run -b local rel/calib.yaml
expect_rc 2 "calib run -b local refuses it"
check "nothing ran" test ! -e rel/output/iteration_000/member_001/status

# The job scripts, rendered from the experiment's own templates.
SIZE=3 ITERATIONS=1 make_experiment tpl "backend: {templates: tpl}"
mkdir tpl/tpl
sed 's/{{setup}}/{{setup}}\n{{nosuch}}/' "$TOP/templates/slurm/member.sbatch" >tpl/tpl/member.sbatch
try "$CALIB" check -b slurm tpl/calib.yaml
expect_rc 2 "a template with an unknown variable is found by calib check"
check "naming the template's line" has err \
    "$TRASH/tpl/tpl/member.sbatch:12:1: unknown template variable '{{nosuch}}'"
check "before anything is written" nothing_written tpl

# --smoke: a model that writes the wrong number of values.
SIZE=3 ITERATIONS=1 make_experiment sm
echo "short" >sm/mode
try "$CALIB" check --smoke sm/calib.yaml
expect_rc 2 "calib check --smoke finds a model whose output is short"
check "saying what is wrong with it" has err \
    "calib: smoke run: a member at the prior's centre failed:"
check "with the number of values" has err "2 values"
check "and writes nothing" nothing_written sm
echo "fail" >sm/mode
try "$CALIB" check --smoke sm/calib.yaml
expect_rc 2 "calib check --smoke finds a failing model"
check "with the end of its log" has err "  failing on purpose"
# The centre of the prior: each component's unconstrained mean, mapped to
# constrained space: a's mean 0; b (mean 2, std 0.5, above 0) its median,
# 1.94, a little below its mean.
rm -f sm/mode
cat >sm/spy.sh <<EOF
#!/bin/sh
cp "\$1" "$TRASH/sm/seen.env"
exec /bin/sh "$TOP/test/model.sh" "\$@"
EOF
chmod +x sm/spy.sh
program sm '["./spy.sh", "{parameters}", "{output}"]'
try "$CALIB" check --smoke sm/calib.yaml
expect_rc 0 "calib check --smoke runs the member's parameters"
check "at the prior's centre" sh -c "grep -q '^a=0.0$' sm/seen.env && grep -q '^b=1.94' sm/seen.env"

# calib run --dry-run: what it would initialise, write and submit, with
# no scheduler call and nothing written.
mkdir -p shims
for c in sbatch squeue scontrol scancel sacct qsub qstat qdel; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/shim.calls"\nexit 1\n' "$c" "$TRASH" >shims/$c
	chmod +x shims/$c
done
SIZE=3 ITERATIONS=4 make_experiment dry
PATH=$TRASH/shims:$PATH try "$CALIB" run -n -b slurm dry/calib.yaml
expect_rc 0 "calib run -n -b slurm of a fresh experiment"
check "makes no scheduler call" test ! -e shim.calls
check "and writes nothing" nothing_written dry
check "says it would initialise" has out "would initialise $TRASH/dry/output: 3 members"
check "shows the script it would write" has out "would write $TRASH/dry/output/iteration_000/member.sbatch ("
check "and the sbatch command line" grep -Eq \
    "^would run: sbatch --parsable --job-name=calib\.tiny\.[0-9a-f]{8}\.1 --array=1-3 --output=$TRASH/dry/output/iteration_000/member_%3a/slurm-%A_%a\.out $TRASH/dry/output/iteration_000/member\.sbatch\$" out
check "the next iteration's, after the update" grep -Eq \
    "^would run: sbatch .* --dependency=afterok:<calib\.tiny\.[0-9a-f]{8}\.2> " out
check "and the rest in a line" has out "and likewise for iterations 2 to 4; nothing was written or submitted"
"$CALIB" init dry/calib.yaml >/dev/null || exit 1
"$CALIB" exec -i 0 -m 2 dry/calib.yaml >/dev/null || exit 1
cp -r dry/output dry.before
try "$CALIB" run -n dry/calib.yaml
expect_rc 0 "calib run -n of an experiment under way"
check "plans only the members left" has out "iteration 0: would submit members 1,3 as job"
check "and changes nothing in it" diff -r dry.before dry/output

# Usage.
try "$CALIB" check -b slurmm good/calib.yaml
expect_rc 2 "an unknown backend"
check "suggests the one meant" has err "did you mean 'slurm'?"
done_testing

# -*- Python -*-
# lit configuration for the omegac golden tests (diagnostics, bad input, formatter).
#
# Run:  python3 /usr/lib/llvm-14/build/utils/lit/lit.py -sv --param omegac=<path> tests/lit
# The compiler is taken from `--param omegac=PATH`, else $OMEGAC, else the default build tree.

import os

import lit.formats

config.name = 'omegac'
# RUN lines use `$?`, `;` and `test`, so they run in a real shell (bash) rather than lit's internal one.
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = ['.omega', '.test']
# Helper files that tests import or format; they are inputs, not tests.
config.excludes = ['Inputs', 'lit.cfg.py']

config.test_source_root = os.path.dirname(os.path.abspath(__file__))
config.test_exec_root = config.test_source_root  # %t files go to Output/ (ignored by git via .gitignore)

repo_root = os.path.normpath(os.path.join(config.test_source_root, '..', '..'))
default_omegac = os.path.join(repo_root, 'build', 'compiler', 'tools', 'omegac', 'omegac')
omegac = lit_config.params.get('omegac') or os.environ.get('OMEGAC') or default_omegac
omegac = os.path.abspath(omegac)
if not os.path.exists(omegac):
    lit_config.warning('omegac not found at %s; tests will fail' % omegac)

# The test-only log writer of tests/lit/audit (tests/unit/LogFixture.cpp), from the build tree that holds omegac
# (omegac is BUILD/compiler/tools/omegac/omegac), unless `--param logfixture=PATH` says otherwise.
build_dir = os.path.normpath(os.path.join(os.path.dirname(omegac), '..', '..', '..'))
logfixture = lit_config.params.get('logfixture') or os.path.join(build_dir, 'runtime', 'log', 'omega_log_fixture')
config.substitutions.append(('%logfixture', os.path.abspath(logfixture)))

llvm_bin = '/usr/lib/llvm-14/bin'
filecheck = os.path.join(llvm_bin, 'FileCheck')
not_tool = os.path.join(llvm_bin, 'not')

# Substitutions are regular expressions. `FileCheck` and `not` are replaced only as whole commands, so words
# like "not" inside quoted arguments or CHECK patterns on RUN lines are left alone.
config.substitutions.append(('%omegac', omegac))
config.substitutions.append((r'(?:^|(?<=[|;&()]))(\s*)FileCheck(?=\s|$)', r'\g<1>' + filecheck))
config.substitutions.append((r'(?:^|(?<=[|;&()]))(\s*)not(?=\s)', r'\g<1>' + not_tool))

# Keep output deterministic: no colour, no locale surprises.
config.environment['LC_ALL'] = 'C.UTF-8'
config.environment['PATH'] = os.pathsep.join([llvm_bin, config.environment.get('PATH', '')])

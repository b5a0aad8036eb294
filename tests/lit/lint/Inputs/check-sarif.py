"""Checks the shape of `omegac lint --format sarif` output: check-sarif.py FILE. Prints a summary line."""
import json
import re
import sys

with open(sys.argv[1], encoding='utf-8') as f:
    log = json.load(f)

assert log['version'] == '2.1.0', log['version']
assert log['$schema'] == 'https://json.schemastore.org/sarif-2.1.0.json'
assert len(log['runs']) == 1
run = log['runs'][0]
driver = run['tool']['driver']
assert driver['name'] == 'omegac'
rules = driver['rules']
ids = [r['id'] for r in rules]
assert len(ids) == len(set(ids)), 'duplicate rule ids'
for r in rules:
    assert re.fullmatch(r'A\d{4}', r['id']), r['id']
    assert r['name'] and r['shortDescription']['text'] and r['fullDescription']['text']
    assert r['defaultConfiguration']['level'] in ('none', 'note', 'warning', 'error')
for root in run.get('originalUriBaseIds', {}).values():
    assert root['uri'].startswith('file:///') and root['uri'].endswith('/'), root

def check_location(loc):
    physical = loc['physicalLocation']
    artifact = physical['artifactLocation']
    if 'uriBaseId' in artifact:
        assert artifact['uriBaseId'] == '%SRCROOT%' and not artifact['uri'].startswith('/'), artifact
    else:
        assert artifact['uri'].startswith('file:///'), artifact
    region = physical['region']
    assert region['startLine'] >= 1 and region['startColumn'] >= 1, region
    assert (region['endLine'], region['endColumn']) >= (region['startLine'], region['startColumn']), region

for res in run['results']:
    assert rules[res['ruleIndex']]['id'] == res['ruleId'], (res['ruleIndex'], res['ruleId'])
    assert res['level'] in ('none', 'note', 'warning', 'error'), res['level']
    assert (res.get('kind', 'fail') == 'fail') == (res['level'] != 'none'), res
    assert res['message']['text']
    for loc in res['locations']:
        check_location(loc)
    related = res.get('relatedLocations', [])
    assert [loc['id'] for loc in related] == list(range(len(related)))
    for loc in related:
        check_location(loc)
        assert loc['message']['text']
    assert re.fullmatch(r'[0-9a-f]{16}', res['partialFingerprints']['omegaFinding/v1'])
    props = res['properties']
    assert props['status'] in ('found', 'unknown'), props['status']
    if 'witness' in props:
        assert isinstance(props['witness'], dict), 'witness is not an object'
    assert isinstance(props['principals'], list) and isinstance(props['rules'], list)

print('sarif ok: %d rules, %d results, %d witnesses' %
      (len(rules), len(run['results']), sum('witness' in r['properties'] for r in run['results'])))

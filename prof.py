import json, sys, glob, collections
p = json.load(open(glob.glob('/tmp/h18/prof/*.cpuprofile')[0]))
nodes = {n['id']: n for n in p['nodes']}
self_t = collections.Counter()
dt = p['timeDeltas']; samples = p['samples']
for s, d in zip(samples, dt): self_t[s] += d
by = collections.Counter()
for nid, t in self_t.items():
    cf = nodes[nid]['callFrame']; by[(cf['functionName'] or '(anon)') + ' ' + cf['url'].split('/')[-1] + ':' + str(cf['lineNumber'])] += t
tot = sum(by.values())
for k, v in by.most_common(int(sys.argv[1]) if len(sys.argv) > 1 else 40): print(f'{100*v/tot:5.1f}% {k}')

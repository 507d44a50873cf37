// Chat templates that would run for minutes and gigabytes without a render budget (issue 13, item 1): shared by
// the Node unit tests, the browser test and the CLI test.
export const HOSTILE_TEMPLATES: Record<string, string> = {
  'range(100000000)': '{% for i in range(100000000) %}x{% endfor %}',
  'nested loops': '{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}',
  'loops over a list built by loops': "{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = ns.l + [i] %}{% endfor %}{% for a in ns.l %}{% for b in ns.l %}.{% endfor %}{% endfor %}",
  'a string doubled until it is gigabytes': "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}",
  'indent by a billion': "{{ 'a\\nb' | indent(1000000000, true) }}",
  'tojson with a billion-space indent': '{{ messages | tojson(indent=1000000000) }}',
  'endless recursion': '{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}',
};

/**
 * URL Rewrite end to end (spec/rewrite.md §1): a table of groups, each a folder with its own
 * web.config and files, and the requests sent to it with the outcome expected. The site
 * (test/sites/rewrite plus every group) is written to a temp folder and served by one real
 * nodehost, so the whole table costs one server start.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SITES, startNodehost, type Reply, type RunningHost } from './helpers/nodehost.js';
import { fetchStrict } from './helpers/strict-http.js';

/** What a case expects. `echo` means the request reached echo.js with this rewritten URL and query. */
interface Expect {
  echo?: { url: string; query: string };
  status?: number;
  body?: string | RegExp;
  reason?: string;
  location?: string;
  abort?: true;
  configError?: RegExp;
  headers?: Record<string, string | RegExp | undefined>;
  nodeHeaders?: Record<string, string | undefined>;
}

interface Case {
  target: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  expect: Expect;
}

interface Group {
  folder: string;
  /** The <rewrite> content of the folder's web.config ('' for no web.config). */
  rewrite: string;
  /** Extra system.webServer content. */
  extra?: string;
  files?: Record<string, string>;
  cases: Case[];
}

const echo = (url: string, query = ''): Expect => ({ echo: { url, query } });
const rules = (body: string): string => `<rules>${body}</rules>`;
const rw = (name: string, match: string, url: string, extra = ''): string =>
  `<rule name="${name}" stopProcessing="true"><match url="${match}"/><action type="Rewrite" url="${url}"${extra}/></rule>`;
const notFound: Expect = { status: 404 };

let backendPort = 0;

function groups(): Group[] {
  return [
    {
      folder: 'basic',
      rewrite: rules(
        rw('B1', '^article/([0-9]+)/([^/]+)$', '/echo.js?id={R:1}&amp;title={R:2}') +
          rw('B2', '^r0/([0-9]+)', '/echo.js?r0={R:0}&amp;r1={R:1}') +
          rw('B3', 'hello/*', '/echo.js?hello=1') +
          rw('B4', '^CaseTest$', '/echo.js?case=insensitive') +
          `<rule name="B5" stopProcessing="true"><match url="^Sensitive$" ignoreCase="false"/><action type="Rewrite" url="/echo.js?case=sensitive"/></rule>` +
          rw('B7', '^opt/(a)?(b)', '/echo.js?g1=[{R:1}]&amp;g2={R:2}&amp;g9=[{R:9}]') +
          rw('B8', '^rel/(.*)', 'page.txt') +
          rw('B9', '^space/(.*)', '/echo.js?v={R:1}') +
          rw('B10', '^empty$', '{R:1}'),
      ),
      files: { 'page.txt': 'basic page', 'index.html': 'basic index' },
      cases: [
        { target: '/basic/article/10/hello', expect: echo('/echo.js', 'id=10&title=hello') },
        { target: '/basic/article/10/hello?x=1', expect: echo('/echo.js', 'id=10&title=hello&x=1') },
        { target: '/basic/article/abc/x', expect: notFound },
        { target: '/basic/article/abc/hello', expect: echo('/echo.js', 'hello=1') },
        { target: '/basic/r0/123/rest', expect: echo('/echo.js', 'r0=r0/123&r1=123') },
        { target: '/basic/xhello.js', expect: echo('/echo.js', 'hello=1') },
        { target: '/basic/hello/a/b', expect: echo('/echo.js', 'hello=1') },
        { target: '/basic/casetest', expect: echo('/echo.js', 'case=insensitive') },
        { target: '/basic/CASETEST', expect: echo('/echo.js', 'case=insensitive') },
        { target: '/basic/Sensitive', expect: echo('/echo.js', 'case=sensitive') },
        { target: '/basic/sensitive', expect: notFound },
        { target: '/basic/opt/b', expect: echo('/echo.js', 'g1=[]&g2=b&g9=[]') },
        { target: '/basic/opt/ab', expect: echo('/echo.js', 'g1=[a]&g2=b&g9=[]') },
        { target: '/basic/rel/anything', expect: { status: 200, body: 'basic page' } },
        { target: '/basic/space/a%20b', expect: echo('/echo.js', 'v=a b') },
        { target: '/basic/empty', expect: { status: 200, body: 'basic index' } },
        { target: '/basic/%61rticle/5/x', expect: echo('/echo.js', 'id=5&title=x') },
        { target: '/basic/page.txt', expect: { status: 200, body: 'basic page' } },
        { target: '/basic/./article/./7/t', expect: echo('/echo.js', 'id=7&title=t') },
      ],
    },
    {
      folder: 'wild',
      rewrite: rules(
        `<rule name="W1" patternSyntax="Wildcard" stopProcessing="true"><match url="*/*.html"/><action type="Rewrite" url="/echo.js?a={R:1}&amp;b={R:2}&amp;all={R:0}"/></rule>` +
          `<rule name="W2" patternSyntax="wildcard" stopProcessing="true"><match url="img?.png"/><action type="Rewrite" url="/echo.js?img={R:0}&amp;r1=[{R:1}]"/></rule>` +
          `<rule name="W3" patternSyntax="Wildcard" stopProcessing="true"><match url="exact.txt" ignoreCase="false"/><action type="Rewrite" url="/echo.js?w=exact"/></rule>` +
          `<rule name="W4" patternSyntax="Wildcard" stopProcessing="true"><match url="lit.(x)"/><action type="Rewrite" url="/echo.js?w=lit"/></rule>` +
          `<rule name="W5" patternSyntax="Wildcard" stopProcessing="true"><match url="host/*"/><conditions><add input="{HTTP_HOST}" pattern="www.*.test"/></conditions><action type="Rewrite" url="/echo.js?site={C:1}"/></rule>`,
      ),
      cases: [
        { target: '/wild/contoso/test.html', expect: echo('/echo.js', 'a=contoso&b=test&all=contoso/test.html') },
        { target: '/wild/a/b/c.html', expect: echo('/echo.js', 'a=a/b&b=c&all=a/b/c.html') },
        { target: '/wild/x.html', expect: notFound },
        { target: '/wild/img1.png', expect: echo('/echo.js', 'img=img1.png&r1=[]') },
        { target: '/wild/IMG1.PNG', expect: echo('/echo.js', 'img=IMG1.PNG&r1=[]') },
        { target: '/wild/img12.png', expect: notFound },
        { target: '/wild/exact.txt', expect: echo('/echo.js', 'w=exact') },
        { target: '/wild/EXACT.txt', expect: notFound },
        { target: '/wild/prefix-exact.txt', expect: notFound },
        { target: '/wild/lit.(x)', expect: echo('/echo.js', 'w=lit') },
        { target: '/wild/litA(x)', expect: notFound },
        { target: '/wild/host/1', headers: { host: 'www.example.test' }, expect: echo('/echo.js', 'site=example') },
        { target: '/wild/host/1', headers: { host: 'example.test' }, expect: notFound },
      ],
    },
    {
      folder: 'exact',
      rewrite: rules(
        `<rule name="E1" patternSyntax="ExactMatch" stopProcessing="true"><match url="string"/><action type="Rewrite" url="/echo.js?e=1&amp;r0={R:0}"/></rule>` +
          `<rule name="E2" patternSyntax="ExactMatch" stopProcessing="true"><match url="STRICT" ignoreCase="false"/><action type="Rewrite" url="/echo.js?e=2"/></rule>` +
          `<rule name="E3" patternSyntax="ExactMatch" stopProcessing="true"><match url="string2" negate="true"/><conditions><add input="{QUERY_STRING}" pattern="neg=1"/></conditions><action type="Rewrite" url="/echo.js?e=neg&amp;r0=[{R:0}]"/></rule>`,
      ),
      cases: [
        { target: '/exact/string', expect: echo('/echo.js', 'e=1&r0=string') },
        { target: '/exact/STRING', expect: echo('/echo.js', 'e=1&r0=STRING') },
        { target: '/exact/string/x', expect: notFound },
        { target: '/exact/xstring', expect: notFound },
        { target: '/exact/STRICT', expect: echo('/echo.js', 'e=2') },
        { target: '/exact/strict', expect: notFound },
        { target: '/exact/other?neg=1', expect: echo('/echo.js', 'e=neg&r0=[]&neg=1') },
        { target: '/exact/string2?neg=1', expect: notFound },
        { target: '/exact/other?neg=12', expect: notFound },
      ],
    },
    {
      folder: 'cond',
      rewrite: rules(
        `<rule name="C1" stopProcessing="true"><match url="^all$"/><conditions><add input="{QUERY_STRING}" pattern="a=1"/><add input="{HTTP_X_TEST}" pattern="^yes$"/></conditions><action type="Rewrite" url="/echo.js?c=all"/></rule>` +
          `<rule name="C2" stopProcessing="true"><match url="^any$"/><conditions logicalGrouping="MatchAny"><add input="{QUERY_STRING}" pattern="a=1"/><add input="{HTTP_X_TEST}" pattern="^yes$"/></conditions><action type="Rewrite" url="/echo.js?c=any"/></rule>` +
          `<rule name="C3" stopProcessing="true"><match url="^capture$"/><conditions><add input="{HTTP_X_TEST}" pattern="^(\\w+)-(\\w+)$"/></conditions><action type="Rewrite" url="/echo.js?c0={C:0}&amp;c1={C:1}&amp;c2={C:2}" appendQueryString="false"/></rule>` +
          `<rule name="C4" stopProcessing="true"><match url="^last$"/><conditions><add input="{HTTP_X_A}" pattern="(a+)"/><add input="{HTTP_X_B}" pattern="(b+)"/></conditions><action type="Rewrite" url="/echo.js?c1={C:1}"/></rule>` +
          `<rule name="C5" stopProcessing="true"><match url="^track$"/><conditions trackAllCaptures="true"><add input="{URL}" pattern="^/(cond)/(track)$"/><add input="{QUERY_STRING}" pattern="p2=([a-z]+)"/></conditions><action type="Rewrite" url="/echo.js?c0={C:0}&amp;c1={C:1}&amp;c2={C:2}&amp;c3={C:3}" appendQueryString="false"/></rule>` +
          `<rule name="C6" stopProcessing="true"><match url="^prev$"/><conditions><add input="{HTTP_X_A}" pattern="^(\\w+)$"/><add input="##{C:1}##" pattern="^##(\\w+)##$"/></conditions><action type="Rewrite" url="/echo.js?p={C:1}"/></rule>` +
          `<rule name="C7" stopProcessing="true"><match url="^negcond$"/><conditions><add input="{HTTP_X_TEST}" pattern="." negate="true"/></conditions><action type="Rewrite" url="/echo.js?c=noheader"/></rule>` +
          `<rule name="C8" stopProcessing="true"><match url="^isfile/(.*)$"/><conditions><add input="{DOCUMENT_ROOT}cond/{R:1}" matchType="IsFile"/></conditions><action type="Rewrite" url="/echo.js?f=yes"/></rule>` +
          `<rule name="C9" stopProcessing="true"><match url="^isdir/(.*)$"/><conditions><add input="{APPL_PHYSICAL_PATH}{R:1}" matchType="isDirectory"/></conditions><action type="Rewrite" url="/echo.js?d=yes"/></rule>` +
          `<rule name="C10" stopProcessing="true"><match url="^escape/(.*)$"/><conditions><add input="{APPL_PHYSICAL_PATH}../{R:1}" matchType="IsFile"/></conditions><action type="Rewrite" url="/echo.js?escaped=yes"/></rule>` +
          `<rule name="C11" stopProcessing="true"><match url="^empty$"/><conditions></conditions><action type="Rewrite" url="/echo.js?c=empty"/></rule>` +
          `<rule name="C12"><match url="^chain/(.*)$"/><action type="Rewrite" url="{R:1}"/></rule>` +
          `<rule name="C13" stopProcessing="true"><match url="^(.*)$"/><conditions><add input="{REQUEST_FILENAME}" matchType="IsFile"/></conditions><action type="Rewrite" url="/echo.js?isfile={R:1}"/></rule>`,
      ),
      files: { 'data.txt': 'cond data', 'sub/x.txt': 'x' },
      cases: [
        { target: '/cond/all?a=1', headers: { 'x-test': 'yes' }, expect: echo('/echo.js', 'c=all&a=1') },
        { target: '/cond/all?a=1', expect: notFound },
        { target: '/cond/any?a=1', expect: echo('/echo.js', 'c=any&a=1') },
        { target: '/cond/any', headers: { 'x-test': 'yes' }, expect: echo('/echo.js', 'c=any') },
        { target: '/cond/any', expect: notFound },
        { target: '/cond/capture', headers: { 'x-test': 'foo-bar' }, expect: echo('/echo.js', 'c0=foo-bar&c1=foo&c2=bar') },
        { target: '/cond/last', headers: { 'x-a': 'aaa', 'x-b': 'bbb' }, expect: echo('/echo.js', 'c1=bbb') },
        { target: '/cond/track?p1=123&p2=abc', expect: echo('/echo.js', 'c0=/cond/track&c1=cond&c2=track&c3=abc') },
        { target: '/cond/prev', headers: { 'x-a': 'hello' }, expect: echo('/echo.js', 'p=hello') },
        { target: '/cond/negcond', expect: echo('/echo.js', 'c=noheader') },
        { target: '/cond/negcond', headers: { 'x-test': 'x' }, expect: notFound },
        { target: '/cond/isfile/data.txt', expect: echo('/echo.js', 'f=yes') },
        { target: '/cond/isfile/missing.txt', expect: notFound },
        { target: '/cond/isfile/sub', expect: notFound },
        { target: '/cond/isdir/cond/sub', expect: echo('/echo.js', 'd=yes') },
        { target: '/cond/isdir/cond/data.txt', expect: notFound },
        { target: '/cond/escape/outside.txt', expect: notFound },
        { target: '/cond/empty', expect: echo('/echo.js', 'c=empty') },
        { target: '/cond/chain/data.txt', expect: echo('/echo.js', 'isfile=data.txt') },
        { target: '/cond/data.txt', expect: echo('/echo.js', 'isfile=data.txt') },
      ],
    },
    {
      folder: 'funcs',
      extra: '<security><requestFiltering allowDoubleEscaping="true"/></security>',
      rewrite: rules(
        rw('F1', '^lower/(.*)$', '/echo.js?v={ToLower:{R:1}}') +
          rw('F2', '^enc/(.*)$', '/echo.js?v={UrlEncode:{R:1}}') +
          rw('F3', '^dec$', '/echo.js?v={UrlDecode:{QUERY_STRING}}', ' appendQueryString="false"') +
          rw('F4', '^html$', '/echo.js?v={HtmlEncode:{HTTP_X_V}}') +
          rw('F5', '^brace$', '/echo.js?v={UrlDecode:%7B}x}') +
          rw(
            'F6',
            '^vars$',
            '/echo.js?m={REQUEST_METHOD}&amp;https={HTTPS}&amp;ru={UrlEncode:{REQUEST_URI}}&amp;unk=[{NO_SUCH_VAR}]&amp;secure={SERVER_PORT_SECURE}',
            ' appendQueryString="false"',
          ) +
          rw('F7', '^nested/(.*)$', '/echo.js?v={ToLower:{UrlDecode:{R:1}}}') +
          rw('F8', '^case$', '/echo.js?v={tolower:{http_x_v}}') +
          rw('F9', '^literal$', '/echo.js?v=hey/ToLower:/what') +
          rw('F10', '^remote$', '/echo.js?a={REMOTE_ADDR}&amp;p={SERVER_PROTOCOL}&amp;u={URL}') +
          rw('F11', '^host$', '/echo.js?h={HTTP_HOST}&amp;n={SERVER_NAME}') +
          rw('F12', '^escdata/(.*)$', '/echo.js?v={EscapeDataString:{R:1}}'),
      ),
      cases: [
        { target: '/funcs/lower/HeLLo', expect: echo('/echo.js', 'v=hello') },
        { target: '/funcs/enc/a&b', expect: echo('/echo.js', 'v=a%26b') },
        { target: '/funcs/enc/%3Chey%3E', expect: echo('/echo.js', 'v=%3Chey%3E') },
        { target: '/funcs/enc/r%C3%A9sum%C3%A9', expect: echo('/echo.js', 'v=r%C3%A9sum%C3%A9') },
        { target: '/funcs/dec?a%3Cb%3E', expect: echo('/echo.js', 'v=a<b>') },
        { target: '/funcs/html', headers: { 'x-v': '<b>"x"</b>' }, expect: echo('/echo.js', 'v=&lt;b&gt;&quot;x&quot;&lt;/b&gt;') },
        { target: '/funcs/brace', expect: echo('/echo.js', 'v={x}') },
        { target: '/funcs/vars?q=1', expect: echo('/echo.js', 'm=GET&https=off&ru=%2Ffuncs%2Fvars%3Fq%3D1&unk=[]&secure=0') },
        { target: '/funcs/vars', method: 'POST', body: 'x', expect: echo('/echo.js', 'm=POST&https=off&ru=%2Ffuncs%2Fvars&unk=[]&secure=0') },
        { target: '/funcs/nested/A%2541B', expect: echo('/echo.js', 'v=aab') },
        { target: '/funcs/case', headers: { 'x-v': 'ABC' }, expect: echo('/echo.js', 'v=abc') },
        { target: '/funcs/literal', expect: echo('/echo.js', 'v=hey/ToLower:/what') },
        { target: '/funcs/remote', expect: echo('/echo.js', 'a=127.0.0.1&p=HTTP/1.1&u=/funcs/remote') },
        { target: '/funcs/host', headers: { host: 'example.test:8080' }, expect: echo('/echo.js', 'h=example.test:8080&n=example.test') },
        { target: '/funcs/escdata/a%20b', expect: echo('/echo.js', 'v=a%20b') },
      ],
    },
    {
      folder: 'maps',
      rewrite:
        '<rewriteMaps><rewriteMap name="Ids" defaultValue="none"><add key="one" value="1"/><add key="Two" value="2"/></rewriteMap>' +
        '<rewriteMap name="Exact" ignoreCase="false"><add key="Key" value="K"/></rewriteMap></rewriteMaps>' +
        rules(
          rw('M1', '^id/(.*)$', '/echo.js?id={Ids:{R:1}}') +
            rw('M2', '^exact/(.*)$', '/echo.js?k=[{Exact:{R:1}}]') +
            `<rule name="M3" stopProcessing="true"><match url=".*"/><conditions><add input="{Static:{REQUEST_URI}}" pattern="(.+)"/></conditions><action type="Rewrite" url="{C:1}" appendQueryString="false"/></rule>`,
        ),
      cases: [
        { target: '/maps/id/one', expect: echo('/echo.js', 'id=1') },
        { target: '/maps/id/ONE', expect: echo('/echo.js', 'id=1') },
        { target: '/maps/id/two', expect: echo('/echo.js', 'id=2') },
        { target: '/maps/id/three', expect: echo('/echo.js', 'id=none') },
        { target: '/maps/exact/Key', expect: echo('/echo.js', 'k=[K]') },
        { target: '/maps/exact/key', expect: echo('/echo.js', 'k=[]') },
        { target: '/maps/Article1', expect: echo('/echo.js', 'id=1&title=first') },
        { target: '/maps/article1', expect: echo('/echo.js', 'id=1&title=first') },
        { target: '/maps/article2', expect: notFound },
        { target: '/maps/Article1?x=1', expect: notFound },
      ],
    },
    {
      folder: 'redir',
      rewrite: rules(
        `<rule name="R1"><match url="^perm/(.*)$"/><action type="Redirect" url="/target/{R:1}"/></rule>` +
          `<rule name="R2"><match url="^found$"/><action type="Redirect" url="found-target" redirectType="Found"/></rule>` +
          `<rule name="R3"><match url="^seeother$"/><action type="Redirect" url="/x" redirectType="SeeOther"/></rule>` +
          `<rule name="R4"><match url="^temp$"/><action type="Redirect" url="/x" redirectType="temporary"/></rule>` +
          `<rule name="R5"><match url="^abs$"/><action type="Redirect" url="https://example.com/{R:0}"/></rule>` +
          `<rule name="R6"><match url="^q$"/><action type="Redirect" url="/new?a=1"/></rule>` +
          `<rule name="R7"><match url="^noq$"/><action type="Redirect" url="/new" appendQueryString="false"/></rule>` +
          `<rule name="R8"><match url="^first$"/><action type="Redirect" url="/one"/></rule>` +
          `<rule name="R8b"><match url="^first$"/><action type="Redirect" url="/two"/></rule>` +
          `<rule name="R9"><match url="^canon$"/><conditions><add input="{HTTP_HOST}" pattern="^www\\.example\\.com$" negate="true"/></conditions><action type="Redirect" url="http://www.example.com/{R:0}"/></rule>` +
          `<rule name="R10"><match url="^space/(.*)$"/><action type="Redirect" url="/s/{R:1}"/></rule>` +
          `<rule name="R11"><match url="^https$"/><conditions><add input="{HTTPS}" pattern="^OFF$"/></conditions><action type="Redirect" url="https://{HTTP_HOST}/{R:0}" redirectType="Permanent"/></rule>` +
          `<rule name="R12"><match url="^rel$"/><action type="Redirect" url="{R:1}"/></rule>`,
      ),
      cases: [
        { target: '/redir/perm/x', expect: { status: 301, location: 'http://{host}/target/x' } },
        { target: '/redir/found', expect: { status: 302, location: 'http://{host}/redir/found-target' } },
        { target: '/redir/seeother', expect: { status: 303, location: 'http://{host}/x' } },
        { target: '/redir/temp', expect: { status: 307, location: 'http://{host}/x' } },
        { target: '/redir/abs', expect: { status: 301, location: 'https://example.com/abs' } },
        { target: '/redir/q?b=2', expect: { status: 301, location: 'http://{host}/new?a=1&b=2' } },
        { target: '/redir/noq?b=2', expect: { status: 301, location: 'http://{host}/new' } },
        { target: '/redir/first', expect: { status: 301, location: 'http://{host}/one' } },
        { target: '/redir/canon', expect: { status: 301, location: 'http://www.example.com/canon' } },
        { target: '/redir/canon', headers: { host: 'www.example.com' }, expect: notFound },
        { target: '/redir/space/a%20b', expect: { status: 301, location: 'http://{host}/s/a%20b' } },
        { target: '/redir/https', expect: { status: 301, location: 'https://{host}/https' } },
        { target: '/redir/rel', expect: { status: 301, location: 'http://{host}/redir/' } },
        { target: '/redir/found', method: 'HEAD', expect: { status: 302, body: '', location: 'http://{host}/redir/found-target' } },
      ],
    },
    {
      folder: 'custom',
      rewrite: rules(
        `<rule name="CR1"><match url="^teapot$"/><action type="CustomResponse" statusCode="418" statusReason="I am a teapot" statusDescription="Short and stout"/></rule>` +
          `<rule name="CR2"><match url="^forbidden$"/><action type="CustomResponse" statusCode="403" subStatusCode="7" statusReason="Forbidden" statusDescription="Nope"/></rule>` +
          `<rule name="CR3"><match url="^nobody$"/><action type="CustomResponse" statusCode="204"/></rule>` +
          `<rule name="CR4"><match url=".*"/><conditions><add input="{HTTP_USER_AGENT}" pattern="BadBot"/></conditions><action type="CustomResponse" statusCode="403" statusReason="Forbidden" statusDescription="Bots are not welcome"/></rule>`,
      ),
      files: { 'page.txt': 'custom page' },
      cases: [
        { target: '/custom/teapot', expect: { status: 418, reason: 'I am a teapot', body: 'Short and stout', headers: { 'content-type': /^text\/plain/ } } },
        { target: '/custom/teapot', method: 'HEAD', expect: { status: 418, reason: 'I am a teapot', body: '' } },
        { target: '/custom/forbidden', expect: { status: 403, body: 'Nope' } },
        { target: '/custom/nobody', expect: { status: 204, body: '' } },
        { target: '/custom/page.txt', headers: { 'user-agent': 'BadBot/1.0' }, expect: { status: 403, body: 'Bots are not welcome' } },
        { target: '/custom/page.txt', expect: { status: 200, body: 'custom page' } },
      ],
    },
    {
      folder: 'abort',
      rewrite: rules(
        `<rule name="A1"><match url="^drop$"/><action type="AbortRequest"/></rule>` +
          `<rule name="A2"><match url=".*"/><conditions><add input="{QUERY_STRING}" pattern="evil"/></conditions><action type="AbortRequest"/></rule>`,
      ),
      files: { 'page.txt': 'abort page' },
      cases: [
        { target: '/abort/drop', expect: { abort: true } },
        { target: '/abort/page.txt?evil=1', expect: { abort: true } },
        { target: '/abort/page.txt', expect: { status: 200, body: 'abort page' } },
      ],
    },
    {
      folder: 'vars',
      rewrite: rules(
        `<rule name="V1"><match url="^hdr$"/><serverVariables><set name="HTTP_X_ORIGINAL_HOST" value="{HTTP_HOST}"/><set name="MY_VAR" value="v-{R:0}"/><set name="RESPONSE_X_Custom" value="resp"/></serverVariables><action type="Rewrite" url="/echo.js"/></rule>` +
          `<rule name="V2"><match url="^cookie$"/><serverVariables><set name="HTTP_COOKIE" value="replaced=1"/></serverVariables><action type="Rewrite" url="/echo.js"/></rule>` +
          `<rule name="V3"><match url="^keep$"/><serverVariables><set name="HTTP_X_KEEP" value="new" replace="false"/></serverVariables><action type="Rewrite" url="/echo.js"/></rule>` +
          `<rule name="V4"><match url="^later$"/><serverVariables><set name="HTTP_X_STEP" value="one"/></serverVariables></rule>` +
          `<rule name="V5"><match url="^later$"/><conditions><add input="{HTTP_X_STEP}" pattern="^one$"/></conditions><action type="Rewrite" url="/echo.js?step=seen"/></rule>` +
          `<rule name="V6"><match url="^promote$"/><serverVariables><set name="ORIGINAL_HOST" value="{HTTP_HOST}"/></serverVariables><action type="Rewrite" url="/echo.js"/></rule>` +
          `<rule name="V7"><match url="^spoof$"/><action type="Rewrite" url="/echo.js"/></rule>`,
      ),
      cases: [
        {
          target: '/vars/hdr',
          headers: { host: 'site.test' },
          expect: { ...echo('/echo.js'), nodeHeaders: { 'x-original-host': 'site.test', 'x-iisnode-my_var': 'v-hdr' }, headers: { 'x-custom': 'resp' } },
        },
        { target: '/vars/cookie', headers: { cookie: 'a=b' }, expect: { ...echo('/echo.js'), nodeHeaders: { cookie: 'replaced=1' } } },
        { target: '/vars/keep', headers: { 'x-keep': 'old' }, expect: { ...echo('/echo.js'), nodeHeaders: { 'x-keep': 'old' } } },
        { target: '/vars/keep', expect: { ...echo('/echo.js'), nodeHeaders: { 'x-keep': 'new' } } },
        { target: '/vars/later', expect: { ...echo('/echo.js', 'step=seen'), nodeHeaders: { 'x-step': 'one' } } },
        { target: '/vars/promote', headers: { host: 'h.test' }, expect: { ...echo('/echo.js'), nodeHeaders: { 'x-iisnode-original_host': 'h.test' } } },
        {
          target: '/vars/spoof?a=1',
          headers: { 'x-original-url': '/forged' },
          expect: { ...echo('/echo.js', 'a=1'), nodeHeaders: { 'x-original-url': '/vars/spoof?a=1' } },
        },
      ],
    },
    {
      folder: 'dist',
      rewrite: rules(
        `<rule name="D1"><match url="^(.*)$"/><conditions><add input="{QUERY_STRING}" pattern="parent"/></conditions><action type="Rewrite" url="/echo.js?parent-input={R:1}" appendQueryString="false"/></rule>` +
          rw('D2', '^article/(\\d+)$', 'article.txt?id={R:1}'),
      ),
      files: {
        'article.txt': 'dist article',
        'child/web.config': config(rules(rw('DC1', '^x/(.*)$', 'local.txt'))),
        'child/local.txt': 'child local',
        'removed/web.config': config(rules('<remove name="D1"/>' + rw('DR', '^(.*)$', '/echo.js?removed={R:1}', ' appendQueryString="false"'))),
        'cleared/web.config': config(rules('<clear/>')),
        'cleared/page.txt': 'cleared page',
        'dupe/web.config': config(rules(rw('D2', '^x$', '/echo.js'))),
      },
      cases: [
        { target: '/dist/anything?parent', expect: echo('/echo.js', 'parent-input=anything') },
        { target: '/dist?parent', expect: echo('/echo.js', 'parent-input=') },
        { target: '/dist/article/7', expect: { status: 200, body: 'dist article' } },
        { target: '/dist/child/x/y', expect: { status: 200, body: 'child local' } },
        { target: '/dist/child/foo?parent', expect: echo('/echo.js', 'parent-input=child/foo') },
        { target: '/dist/removed/abc?parent', expect: echo('/echo.js', 'removed=abc') },
        { target: '/dist/cleared/page.txt?parent', expect: { status: 200, body: 'cleared page' } },
        { target: '/dist/dupe/x', expect: { configError: /dupe[/\\]web\.config:\d+.*'D2'/s } },
        { target: '/order/abc', expect: echo('/echo.js', 'o=from-root-abc') },
        { target: '/loc/a/b', expect: echo('/echo.js', 'loc=a/b') },
        { target: '/loc', expect: echo('/echo.js', 'loc=') },
        { target: '/location-x', expect: notFound },
      ],
    },
    {
      folder: 'order',
      rewrite: rules(rw('O1', '^child/(.*)$', '/echo.js?o={R:1}')),
      cases: [{ target: '/order/child/direct', expect: echo('/echo.js', 'o=from-root-child/direct') }],
    },
    {
      folder: 'negate',
      rewrite: rules(`<rule name="N1" stopProcessing="true"><match url="^keep/" negate="true"/><action type="Rewrite" url="/echo.js?neg=[{R:0}]"/></rule>`),
      files: { 'keep/page.txt': 'kept' },
      cases: [
        { target: '/negate/other', expect: echo('/echo.js', 'neg=[]') },
        { target: '/negate/keep/page.txt', expect: { status: 200, body: 'kept' } },
      ],
    },
    {
      folder: 'stop',
      rewrite: rules(
        `<rule name="S1"><match url="^a$"/><action type="Rewrite" url="b"/></rule>` +
          `<rule name="S2" stopProcessing="true"><match url="^b$"/><action type="Rewrite" url="c.txt"/></rule>` +
          `<rule name="S3"><match url="^c\\.txt$"/><action type="Rewrite" url="/echo.js?never"/></rule>` +
          `<rule name="S4" enabled="false"><match url="^disabled$"/><action type="Rewrite" url="/echo.js?disabled"/></rule>` +
          `<rule name="S5" stopProcessing="true"><match url="^none\\.txt$"/></rule>` +
          `<rule name="S6"><match url="^none\\.txt$"/><action type="Rewrite" url="/echo.js?s6"/></rule>` +
          `<rule name="S7"><match url="^twice$"/><action type="Rewrite" url="/echo.js?step=1"/></rule>` +
          `<rule name="S8"><match url="^echo\\.js$"/><action type="Rewrite" url="/echo.js?step=2"/></rule>`,
      ),
      files: { 'c.txt': 'stop c', 'none.txt': 'stop none' },
      cases: [
        { target: '/stop/a', expect: { status: 200, body: 'stop c' } },
        { target: '/stop/b', expect: { status: 200, body: 'stop c' } },
        { target: '/stop/c.txt', expect: echo('/echo.js', 'never') },
        { target: '/stop/none.txt', expect: { status: 200, body: 'stop none' } },
        { target: '/stop/disabled', expect: notFound },
        { target: '/stop/twice', expect: echo('/echo.js', 'step=1') },
      ],
    },
    {
      folder: 'query',
      rewrite: rules(
        rw('Q1', '^append$', '/echo.js?sub=1') +
          rw('Q2', '^noappend$', '/echo.js?sub=1', ' appendQueryString="false"') +
          rw('Q3', '^drop$', '/echo.js', ' appendQueryString="false"') +
          rw('Q4', '^keep$', '/echo.js') +
          `<rule name="Q5" stopProcessing="true"><match url="^qs$"/><conditions><add input="{QUERY_STRING}" pattern="^id=(\\d+)$"/></conditions><action type="Rewrite" url="/echo.js?item={C:1}" appendQueryString="false"/></rule>` +
          rw('Q6', '^raw$', '/echo.js?v={QUERY_STRING}', ' appendQueryString="False"') +
          rw('Q7', '^uri$', '/echo.js?u={REQUEST_URI}', ' appendQueryString="false"'),
      ),
      cases: [
        { target: '/query/append?a=2', expect: echo('/echo.js', 'sub=1&a=2') },
        { target: '/query/append', expect: echo('/echo.js', 'sub=1') },
        { target: '/query/noappend?a=2', expect: echo('/echo.js', 'sub=1') },
        { target: '/query/drop?a=2', expect: echo('/echo.js', '') },
        { target: '/query/keep?a=2', expect: echo('/echo.js', 'a=2') },
        { target: '/query/qs?id=42', expect: echo('/echo.js', 'item=42') },
        { target: '/query/qs?id=x', expect: notFound },
        { target: '/query/raw?a%20b', expect: echo('/echo.js', 'v=a%20b') },
        { target: '/query/uri?z=9', expect: echo('/echo.js', 'u=/query/uri?z=9') },
      ],
    },
    {
      folder: 'refilter',
      rewrite: rules(
        rw('RF1', '^secret$', '/app_data/db.txt') +
          rw('RF2', '^bin$', 'bin/x.txt') +
          rw('RF3', '^ok$', 'ok.txt') +
          rw('RF4', '^up$', '../../../etc/passwd') +
          rw('RF5', '^cfg$', '/dist/dupe/x') +
          rw('RF6', '^mime$', '/mimes/file.custom') +
          rw('RF7', '^conf$', 'x.config'),
      ),
      files: { 'ok.txt': 'ok file', 'bin/x.txt': 'bin file', 'x.config': 'config file' },
      cases: [
        { target: '/refilter/secret', expect: notFound },
        { target: '/refilter/bin', expect: notFound },
        { target: '/refilter/ok', expect: { status: 200, body: 'ok file' } },
        { target: '/refilter/up', expect: { status: 500 } },
        { target: '/refilter/cfg', expect: { configError: /dupe[/\\]web\.config/ } },
        { target: '/refilter/mime', expect: { status: 200, body: 'custom mime\n', headers: { 'content-type': /^text\/x-custom/ } } },
        { target: '/refilter/conf', expect: notFound },
        { target: '/app_data/db.txt', expect: notFound },
      ],
    },
    {
      folder: 'proxy',
      rewrite: rules(
        `<rule name="P1" stopProcessing="true"><match url="^api/(.*)$"/><action type="Rewrite" url="http://127.0.0.1:${backendPort}/backend/{R:1}"/></rule>` +
          `<rule name="P2" stopProcessing="true"><match url="^dead$"/><action type="Rewrite" url="http://127.0.0.1:1/x"/></rule>`,
      ),
      cases: [
        { target: '/proxy/api/items?x=1', expect: { status: 201, body: /"url":"\/backend\/items\?x=1"/, headers: { 'x-backend': 'yes' } } },
        { target: '/proxy/api/items', expect: { status: 201, body: new RegExp(`"host":"127\\.0\\.0\\.1:${backendPort}"`) } },
        { target: '/proxy/api/items?q', expect: { status: 201, body: /"x-original-url":"\/proxy\/api\/items\?q"/ } },
        { target: '/proxy/api/post', method: 'POST', body: 'hello body', expect: { status: 201, body: /"method":"POST".*"body":"hello body"/ } },
        { target: '/proxy/dead', expect: { status: 502 } },
        // RFC 9110 7.6.1: the fields a Connection header names are this hop's only, both ways.
        {
          target: '/proxy/api/hop',
          headers: { connection: 'keep-alive, X-Hop', 'x-hop': 'client only', 'x-end': 'kept' },
          expect: { status: 201, body: /^(?!.*x-hop)(?=.*"x-end":"kept").*$/, headers: { 'x-backend-hop': undefined, 'x-backend': 'yes' } },
        },
      ],
    },
    {
      folder: 'out',
      rewrite:
        rules(
          `<rule name="OI1"><match url="^hdr$"/><serverVariables><set name="RESPONSE_X_Backend" value="orig"/></serverVariables><action type="Rewrite" url="text.txt"/></rule>`,
        ) +
        '<outboundRules>' +
        '<rule name="OH1"><match serverVariable="RESPONSE_X_Backend" pattern="^(.+)$"/><action type="Rewrite" value="rewritten-{R:1}"/></rule>' +
        '<rule name="OH2"><match serverVariable="RESPONSE_X_Note" pattern="^$"/><action type="Rewrite" value="set"/></rule>' +
        '<rule name="OT1" preCondition="IsHTML"><match filterByTags="A, Img" pattern="^/old/(.*)$"/><action type="Rewrite" value="/new/{R:1}"/></rule>' +
        '<rule name="OT2" preCondition="IsHTML"><match filterByTags="CustomTags" customTags="MyTags" pattern="^(.*)$"/><action type="Rewrite" value="custom-{R:1}"/></rule>' +
        '<rule name="OB1" preCondition="IsText"><match pattern="foo" occurrences="2"/><action type="Rewrite" value="bar"/></rule>' +
        '<preConditions>' +
        '<preCondition name="IsHTML"><add input="{RESPONSE_CONTENT_TYPE}" pattern="^text/html"/></preCondition>' +
        '<preCondition name="IsText"><add input="{RESPONSE_CONTENT_TYPE}" pattern="^text/plain"/><add input="{RESPONSE_STATUS}" pattern="^200$"/></preCondition>' +
        '</preConditions>' +
        '<customTags><tags name="MyTags"><tag name="item" attribute="src"/></tags></customTags>' +
        '</outboundRules>',
      files: {
        'page.html': `<a href="/old/x">x</a><img alt='i' src='/old/y.png'><a href="/keep">k</a><item src="z"></item>`,
        'text.txt': 'foo foo foo',
        'data.json': '{"foo":1}',
      },
      cases: [
        {
          target: '/out/page.html',
          expect: { status: 200, body: `<a href="/new/x">x</a><img alt='i' src='/new/y.png'><a href="/keep">k</a><item src="custom-z"></item>` },
        },
        { target: '/out/text.txt', expect: { status: 200, body: 'bar bar foo', headers: { 'x-note': 'set', 'content-length': '11' } } },
        { target: '/out/data.json', expect: { status: 200, body: '{"foo":1}' } },
        { target: '/out/hdr', expect: { status: 200, body: 'bar bar foo', headers: { 'x-backend': 'rewritten-orig' } } },
        { target: '/out/text.txt', method: 'HEAD', expect: { status: 200, body: '' } },
      ],
    },
    ...brokenGroups(),
  ];
}

/** Malformed rules: each in its own folder, so the error stays in that scope. */
function brokenGroups(): Group[] {
  const broken = (folder: string, rewrite: string, message: RegExp): Group => ({
    folder,
    rewrite,
    files: { 'page.txt': 'never served' },
    cases: [{ target: `/${folder}/page.txt`, expect: { configError: message } }],
  });
  return [
    broken('bad-regex', rules(rw('BadRegex', '(unclosed', '/echo.js')), /web\.config:\d+.*Rule 'BadRegex'.*invalid ECMAScript pattern/s),
    broken('bad-expr', rules(rw('BadExpr', '.*', '/echo.js?{R:1')), /Rule 'BadExpr'.*bad expression/s),
    broken('bad-map', rules(rw('BadMap', '.*', '/echo.js?{NoSuchMap:x}')), /Rule 'BadMap'.*NoSuchMap/s),
    broken('bad-digit', rules(rw('BadDigit', '.*', '/echo.js?{R:10}')), /Rule 'BadDigit'.*one digit/s),
    broken('bad-type', rules(`<rule name="BadType"><action type="Foo"/></rule>`), /Rule 'BadType'.*type parameter 'Foo'/s),
    broken(
      'bad-redirect',
      rules(`<rule name="Bad308"><action type="Redirect" url="/x" redirectType="PermanentRedirect"/></rule>`),
      /Rule 'Bad308'.*redirectType/s,
    ),
    broken('bad-bool', rules(`<rule name="BadBool" stopProcessing="yes"><action type="None"/></rule>`), /Rule 'BadBool'.*stopProcessing parameter 'yes'/s),
    broken('bad-url', rules(`<rule name="EmptyUrl"><action type="Rewrite" url=""/></rule>`), /Rule 'EmptyUrl'.*empty string/s),
    broken('bad-global', '<globalRules><rule name="G"/></globalRules>', /globalRules/),
    broken('bad-match', rules(`<rule name="NoUrl"><match ignoreCase="true"/></rule>`), /Rule 'NoUrl'.*Match must have Url/s),
    broken('bad-cond', rules(`<rule name="NoInput"><conditions><add pattern="x"/></conditions></rule>`), /Rule 'NoInput'.*input attribute/s),
    broken(
      'bad-group',
      rules(`<rule name="BadGroup"><conditions logicalGrouping="Some"><add input="{URL}" pattern="x"/></conditions></rule>`),
      /logicalGrouping parameter 'Some'/,
    ),
    broken('bad-attr', rules(`<rule name="BadAttr" colour="red"/>`), /Rule 'BadAttr'.*unknown attribute 'colour'/s),
    broken('bad-dotnet', rules(rw('DotNet', '(?i)abc', '/echo.js')), /Rule 'DotNet'.*invalid ECMAScript pattern/s),
    broken(
      'bad-outbound',
      '<outboundRules><rule name="OutBad" preCondition="Missing"><match pattern="x"/></rule></outboundRules>',
      /Outbound rule 'OutBad'.*precondition 'Missing'/s,
    ),
    broken('bad-dupe', rules(rw('Same', 'a', '/echo.js') + rw('Same', 'b', '/echo.js')), /duplicate collection entry.*'Same'/s),
  ];
}

function config(rewrite: string, extra = ''): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <system.webServer>\n    ${extra}\n    <rewrite>${rewrite}</rewrite>\n  </system.webServer>\n</configuration>\n`;
}

let tmp = '';
let host: RunningHost;
let backend: Server;
let table: Group[] = [];

before(async () => {
  backend = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      // A request that names x-hop in Connection gets an answer that names its own x-backend-hop.
      const hop = req.url?.endsWith('/hop') === true ? { connection: 'x-backend-hop', 'x-backend-hop': 'backend only' } : {};
      res.writeHead(201, { 'content-type': 'application/json', 'x-backend': 'yes', ...hop });
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
    });
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  backendPort = (backend.address() as AddressInfo).port;
  tmp = mkdtempSync(path.join(tmpdir(), 'nodehost-rewrite-'));
  const root = path.join(tmp, 'site');
  cpSync(path.join(SITES, 'rewrite'), root, { recursive: true });
  writeFileSync(path.join(root, 'package.json'), '{ "type": "commonjs", "private": true }\n');
  writeFileSync(path.join(tmp, 'outside.txt'), 'outside the site root');
  table = groups();
  for (const group of table) {
    const dir = path.join(root, group.folder);
    mkdirSync(dir, { recursive: true });
    if (group.rewrite !== '') writeFileSync(path.join(dir, 'web.config'), config(group.rewrite, group.extra));
    for (const [name, content] of Object.entries(group.files ?? {})) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), content);
    }
  }
  host = await startNodehost(root);
});

after(async () => {
  await host?.stop();
  backend?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Sends a request and reports whether the connection was dropped without a response. */
function send(base: string, c: Case): Promise<Reply | 'aborted'> {
  return fetchStrict(base, c.target, { method: c.method, headers: c.headers, body: c.body }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ECONNRESET' || /socket hang up/.test(err.message)) return 'aborted' as const;
    throw err;
  });
}

function decodeEntities(html: string): string {
  return html
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function statusLine(base: string, c: Case): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: c.target, method: c.method ?? 'GET', headers: c.headers, agent: false }, (res) => {
      res.resume();
      resolve(res.statusMessage ?? '');
    });
    req.on('error', reject);
    req.end();
  });
}

describe('URL Rewrite, table-driven end to end', () => {
  test('the table has at least 120 cases', () => {
    const count = groups().reduce((sum, group) => sum + group.cases.length, 0);
    assert.ok(count >= 120, `only ${count} cases`);
  });

  // One test per group; inside it the cases run one after another, each message naming the case.
  for (const group of groups()) {
    test(`${group.folder}/`, async () => {
      const cases = table.find((g) => g.folder === group.folder)!.cases;
      const hostHeader = `127.0.0.1:${host.port}`;
      for (const c of cases) {
        const what = `${c.method ?? 'GET'} ${c.target}${c.headers ? ' ' + JSON.stringify(c.headers) : ''}`;
        const reply = await send(host.url, c);
        const e = c.expect;
        if (e.abort) {
          assert.equal(reply, 'aborted', `${what}: expected the connection to be dropped`);
          continue;
        }
        assert.notEqual(reply, 'aborted', `${what}: connection dropped`);
        const r = reply as Reply;
        if (e.configError) {
          assert.match(decodeEntities(r.text), e.configError, `${what}: config error page`);
          continue;
        }
        if (e.echo) {
          assert.equal(r.status, 200, `${what}: status (${r.text.slice(0, 300)})`);
          const seen = JSON.parse(r.text) as { url: string; headers: Record<string, string> };
          assert.equal(seen.headers['x-iisnode-url'], e.echo.url, `${what}: rewritten URL`);
          assert.equal(seen.headers['x-iisnode-query_string'], e.echo.query, `${what}: rewritten query`);
          assert.equal(seen.url, c.target, `${what}: node sees the original URL`);
          assert.equal(seen.headers['x-original-url'], c.target, `${what}: X-Original-URL`);
          for (const [name, value] of Object.entries(e.nodeHeaders ?? {})) assert.equal(seen.headers[name], value, `${what}: node header ${name}`);
        }
        if (e.status !== undefined) assert.equal(r.status, e.status, `${what}: status (${r.text.slice(0, 200)})`);
        if (typeof e.body === 'string') assert.equal(r.text, e.body, `${what}: body`);
        else if (e.body) assert.match(r.text, e.body, `${what}: body`);
        if (e.location !== undefined) assert.equal(r.headers.location, e.location.replace('{host}', hostHeader), `${what}: Location`);
        for (const [name, value] of Object.entries(e.headers ?? {})) {
          if (value instanceof RegExp) assert.match(String(r.headers[name]), value, `${what}: header ${name}`);
          else assert.equal(r.headers[name], value, `${what}: header ${name}`);
        }
        if (e.reason !== undefined) assert.equal(await statusLine(host.url, c), e.reason, `${what}: reason phrase`);
      }
    });
  }

  test('configuration errors are logged at start with file:line and rule name', () => {
    assert.match(host.stderr(), /bad-regex[/\\]web\.config:\d+.*BadRegex/);
  });
});

// Outbound rules over a response from node: the worker's body arrives chunked (writeHead
// without a length, then end), the rule buffers and rewrites it, and the client must get it
// with exactly one framing. The strict client refuses a response with both Content-Length
// and Transfer-Encoding (spec/rewrite.md §1.15; the Microsoft "Creating Outbound Rules" example).
describe('outbound rules in front of a node application', () => {
  let outTmp = '';
  let outHost: RunningHost | undefined;

  before(async () => {
    outTmp = mkdtempSync(path.join(tmpdir(), 'nodehost-outbound-'));
    const root = path.join(outTmp, 'site');
    mkdirSync(root);
    writeFileSync(
      path.join(root, 'web.config'),
      `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <system.webServer>
    <handlers><add name="iisnode" path="app.js" verb="*" modules="iisnode"/></handlers>
    <rewrite>
      <outboundRules>
        <rule name="ArticleLinks" preCondition="IsHTML">
          <match filterByTags="A" pattern="^/article\\.aspx\\?id=([0-9]+)(?:&amp;|&amp;amp;)title=([_0-9a-z-]+)$"/>
          <action type="Rewrite" value="/article/{R:1}/{R:2}"/>
        </rule>
        <preConditions>
          <preCondition name="IsHTML"><add input="{RESPONSE_CONTENT_TYPE}" pattern="^text/html"/></preCondition>
        </preConditions>
      </outboundRules>
    </rewrite>
    <iisnode loggingEnabled="false"/>
  </system.webServer>
</configuration>
`,
    );
    writeFileSync(
      path.join(root, 'app.js'),
      `require('http').createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html' });
  res.end('<a href="/article.aspx?id=342&amp;title=x">x</a>');
}).listen(process.env.PORT);
`,
    );
    outHost = await startNodehost(root);
  });

  after(async () => {
    await outHost?.stop();
    if (outTmp) rmSync(outTmp, { recursive: true, force: true });
  });

  test('a rewritten node response has one framing and the rewritten href', async () => {
    const reply = await fetchStrict(outHost!.url, '/app.js');
    assert.equal(reply.status, 200);
    assert.match(String(reply.headers['content-type']), /^text\/html/);
    assert.equal(reply.text, '<a href="/article/342/x">x</a>');
    const framing = reply.rawHeaders
      .filter((_, i) => i % 2 === 0)
      .map((name) => name.toLowerCase())
      .filter((name) => name === 'content-length' || name === 'transfer-encoding');
    assert.equal(framing.length, 1, `one framing header, not ${framing.join(' and ')}`);
  });
});

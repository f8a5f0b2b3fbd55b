"""Both nginx configurations pass `nginx -t`."""
import os
import re
import shutil
import subprocess

from conftest import ROOT, VAR


def nginx_t(prefix, conf):
    p = subprocess.run(["nginx", "-t", "-e", "/dev/stderr", "-p", prefix, "-c", conf],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stderr


def test_development_config_is_valid():
    nginx_t(os.path.join(VAR, "nginx"), os.path.join(VAR, "nginx", "nginx.conf"))


def test_production_example_is_valid(tmp_path):
    d = tmp_path
    (d / "lexar").mkdir()
    for f in os.listdir(f"{ROOT}/nginx"):
        if f.startswith("lexar-"):
            shutil.copy(f"{ROOT}/nginx/{f}", d / "lexar" / f)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-subj", "/CN=api.example.com", "-days", "1",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
                   check=True, capture_output=True)
    site = open(f"{ROOT}/nginx/production.conf").read()
    site = site.replace("/etc/letsencrypt/live/api.example.com/fullchain.pem", str(d / "cert.pem"))
    site = site.replace("/etc/letsencrypt/live/api.example.com/privkey.pem", str(d / "key.pem"))
    (d / "site.conf").write_text(site)
    (d / "nginx.conf").write_text(f"""
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{}}
http {{
    client_body_temp_path {d}/tmp;
    fastcgi_temp_path {d}/tmp;
    proxy_temp_path {d}/tmp;
    uwsgi_temp_path {d}/tmp;
    scgi_temp_path {d}/tmp;
    include site.conf;
}}
""")
    nginx_t(str(d), str(d / "nginx.conf"))
    # The TLS settings are Mozilla "intermediate" and HSTS is on.
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in site
    assert re.search(r"Strict-Transport-Security \"max-age=\d+\" always", site)
    assert "limit_req_zone" in site and "zone=lexar_auth" in site
    assert "fastcgi_split_path_info" not in site + open(f"{ROOT}/nginx/lexar-locations.conf").read()

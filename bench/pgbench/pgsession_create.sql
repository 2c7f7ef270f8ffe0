-- Figure 4: a login starts; pgsession generates the token.
SELECT session_create(nonce => 'n-0S6_WzA2Mj-bench', state => 'af0ifjsldkj-bench',
                      code_verifier => 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');

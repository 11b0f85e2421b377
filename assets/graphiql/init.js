// Points GraphiQL at this server's /graphql and sends the session cookie with every request.
// Sign in with the `login` mutation; introspection (docs, autocomplete) works once signed in.
(function () {
  var fetcher = GraphiQL.createFetcher({
    url: '/graphql',
    fetch: function (url, options) {
      return fetch(url, Object.assign({}, options, { credentials: 'include' }));
    },
  });
  var defaultQuery = [
    '# Welcome to VasKem. Sign in first (the first start of `vaskem serve` prints a demo login),',
    '# then press the "re-fetch schema" button for docs and autocomplete.',
    '',
    'mutation SignIn {',
    '  login(input: {organisation: "demo", email: "admin@demo.vaskem.example", password: "paste the printed password"}) {',
    '    user { email organisation { name slug } }',
    '    userErrors { field message }',
    '  }',
    '}',
    '',
    'query WhoAmI {',
    '  me { email organisation { id name } }',
    '}',
    '',
  ].join('\n');
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultQuery: defaultQuery }),
  );
})();

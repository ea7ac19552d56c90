/*
 * cover.js - the neutral cover of a camouflaged vault (`defter init --camouflage NAME`) while
 * the page is locked: a plain sign-in box with no program name, no vault words and no menu,
 * so a glance at the screen or the tab shows nothing about Defter. It defeats a glance, not an
 * examiner (docs/coercion.md, "Camouflage"). Its words are its own, in the five languages.
 */

const WORDS = {
  en: { title: 'Sign in', password: 'Password', go: 'Continue', wrong: 'Try again.' },
  uk: { title: 'Вхід', password: 'Пароль', go: 'Далі', wrong: 'Спробуйте ще раз.' },
  ru: { title: 'Вход', password: 'Пароль', go: 'Далее', wrong: 'Попробуйте ещё раз.' },
  tr: { title: 'Oturum aç', password: 'Parola', go: 'Devam', wrong: 'Yeniden deneyin.' },
  /* Crimean Tatar (Latin); wants a native speaker's review */
  crh: { title: 'Kiriş', password: 'Parol', go: 'Devam', wrong: 'Kene deñeñiz.' },
};

/* unlock(pass) resolves when the passphrase opened the vault; code is the page's language. */
export function showCover(unlock, code) {
  const w = WORDS[code] || WORDS.en;
  document.title = w.title;
  const top = document.getElementById('top');
  if (top) top.replaceChildren();
  const main = document.getElementById('main');
  if (!main) return;
  const form = document.createElement('form');
  form.id = 'cover-form';
  form.className = 'card unlock';
  const h = document.createElement('h1');
  h.textContent = w.title;
  const label = document.createElement('label');
  label.htmlFor = 'cover-pass';
  label.textContent = w.password;
  const pass = document.createElement('input');
  pass.type = 'password';
  pass.id = 'cover-pass';
  pass.autocomplete = 'current-password';
  pass.required = true;
  const go = document.createElement('button');
  go.type = 'submit';
  go.id = 'cover-go';
  go.textContent = w.go;
  const msg = document.createElement('p');
  msg.className = 'error';
  msg.setAttribute('role', 'alert');
  form.append(h, label, pass, go, msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const value = pass.value;
    pass.value = '';
    msg.textContent = '';
    try {
      await unlock(value);
      location.reload();
    } catch (e) {
      msg.textContent = w.wrong;
    }
  });
  main.replaceChildren(form);
  pass.focus();
}

import "@fontsource/vazirmatn/arabic-400.css";
import "@fontsource/vazirmatn/arabic-700.css";
import "@fontsource/vazirmatn/latin-400.css";
import "./app.css";
import { mount } from "svelte";
import App from "./App.svelte";
import { installPersianDigits } from "./lib/persianInput";
import { installFormKeys } from "./lib/formKeys";

installPersianDigits();
installFormKeys();

const target = document.getElementById("app");
if (target) mount(App, { target });
